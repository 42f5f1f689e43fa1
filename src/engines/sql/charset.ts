/** Characters each single-byte code page holds, so that none becomes `?` on its way in. */
const codePageCharacters = new Map<number, Set<string> | undefined>()

function charactersOf(codePage: number): Set<string> | undefined {
  if (!codePageCharacters.has(codePage)) {
    let set: Set<string> | undefined
    if (codePage === 28591) {
      // ISO-8859-1 is U+0000-U+00FF (the WHATWG decoder would read the label as windows-1252).
      set = new Set(Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)))
    } else {
      try {
        const decoded = new TextDecoder(`windows-${codePage}`).decode(Uint8Array.from({ length: 256 }, (_, i) => i))
        set = new Set([...decoded].filter((c) => c !== '\ufffd'))
      } catch {
        set = undefined
      }
    }
    codePageCharacters.set(codePage, set)
  }
  return codePageCharacters.get(codePage)
}

/**
 * Why a column in a non-Unicode code page cannot hold the text: SQL Server and Oracle store a
 * character their code page lacks as `?` (or a look-alike) without an error. UTF-8 (65001) holds
 * every character; single-byte Windows code pages and ISO-8859-1 (28591) hold what they map;
 * other code pages are held to ASCII, which ferry can vouch for. Undefined when it fits.
 */
export function codePageProblem(text: string, codePage: number | undefined, remedy: string): string | undefined {
  if (codePage === undefined || codePage === 65001) return undefined
  const characters = charactersOf(codePage)
  for (const c of text) {
    if (c.length === 1 && c.charCodeAt(0) < 0x80) continue
    if (characters?.has(c)) continue
    const point = `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`
    return `the character ${JSON.stringify(c)} (${point}) is not in the column's code page ${codePage}, which would store \`?\` for it (${remedy})`
  }
  return undefined
}
