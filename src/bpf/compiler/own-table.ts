// Name tables looked up with words from the user's expression. A plain object
// literal also "has" what every object inherits, so `host constructor` or
// `port toString` found a keyword or a number where libpcap finds an unknown
// name. Tables made here have no prototype.

/** A frozen copy of `entries` without a prototype: only its own keys are found. */
export function ownTable<T>(entries: Readonly<Record<string, T>>): Readonly<Record<string, T>> {
  return Object.freeze(Object.assign(Object.create(null) as Record<string, T>, entries));
}
