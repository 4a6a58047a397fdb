/**
 * The few web-platform globals that core/ may use because the browser and Node.js both provide them
 * (WHATWG URL). tsconfig.core.json type-checks core/ with only these and the ES library, so anything
 * else (DOM, node:*) fails the typecheck.
 */
declare class URL {
  constructor(url: string, base?: string | URL);
  readonly href: string;
  readonly origin: string;
  readonly protocol: string;
  readonly host: string;
  readonly hostname: string;
  readonly pathname: string;
  readonly search: string;
  readonly hash: string;
}

declare class URLSearchParams {
  constructor(init?: string | Record<string, string>);
  get(name: string): string | null;
  set(name: string, value: string): void;
  toString(): string;
}
