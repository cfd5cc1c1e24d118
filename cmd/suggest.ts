/**
 * "Did you mean": the known name closest to a misspelt one, by edit distance, when it is close enough to be a
 * typo (at most a third of the longer name's letters, and at most 3).
 *
 * @example
 * closestName('pubic-key-file', ['public-key-file', 'file']); // 'public-key-file'
 * closestName('xyz', ['register', 'check']);                   // undefined
 */
export function closestName(given: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(given, name);
    if (
      distance <= Math.min(3, Math.floor(Math.max(given.length, name.length) / 3)) &&
      (!best || distance < best.distance)
    )
      best = { name, distance };
  }
  return best?.name;
}

/** Levenshtein distance (insertions, deletions, substitutions), with adjacent transpositions counting as one. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}
