/** The bench's pod keys: spread over the key space so inserts land all over the index, as real names do. */
export const keyOf = (i: number): string => `/registry/pods/default/pod-${String((i * 7919) % 1_000_003).padStart(7, '0')}-${i}`;
export const FILL = 100_000;
