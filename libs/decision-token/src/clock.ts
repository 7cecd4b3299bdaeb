/** The time source, injected wherever a verifier compares with "now" (a port: tests fix it). */
export interface Clock {
  now(): Date;
}
