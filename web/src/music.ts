// Mixes: the genres the server knows (its closed list, as /api/openapi.json
// documents it) and the rule for reporting a play.

export const genres = [
  'afro-house', 'amapiano', 'ambient', 'breaks', 'deep-house', 'disco', 'downtempo', 'drum-and-bass', 'dub', 'dubstep',
  'edm', 'electro', 'experimental', 'funk', 'garage', 'hardstyle', 'hip-hop', 'house', 'jazz', 'jungle', 'lo-fi', 'minimal',
  'pop', 'progressive', 'reggae', 'rnb', 'soul', 'tech-house', 'techno', 'trance',
];

/**
 * One listen, one play: report once when playback first starts, again
 * only after the mix played to its end (a new listen). Pausing, seeking and
 * buffering are the same listen. The server also counts a listener once
 * per mix per 30 minutes.
 */
export class PlayReporter {
  private reported = false;
  constructor(private readonly report: () => Promise<unknown>) {}

  /** The audio element started or resumed playing. */
  playing(): boolean {
    if (this.reported) return false;
    this.reported = true;
    this.report().catch(() => {
      this.reported = false; // not counted: the next start tries again
    });
    return true;
  }

  /** The mix played to its end: the next start is a new listen. */
  ended(): void {
    this.reported = false;
  }
}
