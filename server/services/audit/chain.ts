import { createHash, createHmac } from "node:crypto";
import { auditKey } from "./key";
import type { AuditInput } from "./record";

/**
 * The audit hash chain: each event stores the hash of its predecessor and a hash over its own
 * fields plus that predecessor hash, so altering, inserting or deleting a row breaks the chain
 * at the first event after the change.
 *
 * Since hash version 2 the hash is an HMAC-SHA256 with a key kept outside the database
 * (./key.ts), so someone who can only write the database cannot re-hash a rewritten chain.
 * Version 1 (plain SHA-256) is what events written before the key existed carry; verification
 * still checks them, without the key, and says so.
 */
export const GENESIS_HASH = "0".repeat(64);

/** Plain SHA-256: events written before the chain was keyed. */
export const HASH_UNKEYED = 1;
/** HMAC-SHA256 with the audit key: every event written now. */
export const HASH_KEYED = 2;
export const CURRENT_HASH_VERSION = HASH_KEYED;

/** Exactly the columns the hash covers, in the form the database stores and gives back. */
export interface ChainedFields {
  at: Date;
  actorType: string;
  actorId: string;
  actorName: string;
  action: string;
  clusterId: string | null;
  targetType: string;
  targetId: string;
  before: string | null;
  after: string | null;
  ip: string;
  userAgent: string;
  requestId: string;
  prevHash: string;
}

export interface HashedFields extends ChainedFields {
  hashVersion: number;
}

/**
 * Text as both stores keep it. A lone UTF-16 surrogate cannot be written as UTF-8: SQLite stores
 * bytes it later reads back as U+FFFD, and PostgreSQL's driver sends U+FFFD; NUL cannot be stored
 * by PostgreSQL at all. Boundaries refuse both (server/input.ts); this makes what is hashed equal
 * what is stored for anything that gets here another way.
 */
export function storedText(s: string): string {
  return s.replace(/[\p{Cs}\u0000]/gu, "\uFFFD");
}

const storedJson = (v: unknown): string | null =>
  v === undefined || v === null ? null : storedText(JSON.stringify(v));

export const USER_AGENT_MAX = 400;

/**
 * The one place an audit input becomes the row that is stored and hashed, for single appends and
 * bulk appends alike.
 */
export function chainedFields(input: AuditInput, at: Date, prevHash: string): HashedFields {
  return {
    at: new Date(at.getTime()),
    actorType: storedText(input.actor.type),
    actorId: storedText(input.actor.id),
    actorName: storedText(input.actor.name),
    action: storedText(input.action),
    clusterId: input.clusterId == null ? null : storedText(input.clusterId),
    targetType: storedText(input.targetType ?? ""),
    targetId: storedText(input.targetId ?? ""),
    before: storedJson(input.before),
    after: storedJson(input.after),
    ip: storedText(input.meta.ip),
    // cut before cleaning: a cut through a surrogate pair leaves a lone half
    userAgent: storedText(input.meta.userAgent.slice(0, USER_AGENT_MAX)),
    requestId: storedText(input.meta.requestId),
    prevHash,
    hashVersion: CURRENT_HASH_VERSION,
  };
}

function canonical(e: ChainedFields, version: number | null): string {
  // a JSON array keeps field boundaries unambiguous whatever the values contain
  const fields = [
    e.at.toISOString(),
    e.actorType,
    e.actorId,
    e.actorName,
    e.action,
    e.clusterId,
    e.targetType,
    e.targetId,
    e.before,
    e.after,
    e.ip,
    e.userAgent,
    e.requestId,
    e.prevHash,
  ];
  // the version is covered too (from version 2 on), so it cannot be changed on its own
  return JSON.stringify(version === null ? fields : [version, ...fields]);
}

/** The hash an event must carry, by its own hash version; null for a version this console does not know. */
export function eventHash(e: HashedFields, key: Buffer = auditKey()): string | null {
  switch (e.hashVersion) {
    case HASH_UNKEYED:
      return createHash("sha256").update(canonical(e, null)).digest("hex");
    case HASH_KEYED:
      return createHmac("sha256", key).update(canonical(e, HASH_KEYED)).digest("hex");
    default:
      return null;
  }
}

/** The hash of a new event (always the current version). */
export function newEventHash(e: HashedFields, key: Buffer = auditKey()): string {
  const hash = eventHash({ ...e, hashVersion: CURRENT_HASH_VERSION }, key);
  if (hash === null) throw new Error("the current audit hash version has no hash function");
  return hash;
}

/** Why an unkeyed event after the first keyed one is bad. */
export const downgradeProblem = (firstKeyedSeq: number) =>
  `carries an unkeyed hash although the chain is keyed since event #${firstKeyedSeq}: it was written without the key`;

/** True when a stored time can be read back as a time (a row edited by hand may hold anything). */
export const isReadableTime = (at: Date): boolean => !Number.isNaN(at.getTime());

/**
 * What is wrong with one stored event on its own (its link to the event before is the caller's to
 * check), or null when its hash matches its contents.
 */
export function eventProblem(row: HashedFields & { hash: string }, key?: Buffer): string | null {
  if (!isReadableTime(row.at)) return "cannot be read: its stored time is not a valid timestamp";
  const expected = eventHash(row, key);
  if (expected === null) return `has a hash version this console does not know (${row.hashVersion})`;
  if (expected !== row.hash) {
    return row.hashVersion === HASH_KEYED
      ? "its contents were changed after it was written (its keyed hash does not match)"
      : "its contents were changed after it was written";
  }
  return null;
}
