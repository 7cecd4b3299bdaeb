/** The time source, injected wherever the core compares with "now" (a port: tests fix it). */
export interface Clock {
  now(): Date;
}
