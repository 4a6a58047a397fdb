import pino from "pino";
import { env } from "./env";

/** Structured logs (JSON lines on stdout). */
export const logger = pino({ level: env.LOG_LEVEL, base: { service: "gatehouse-console" } });
