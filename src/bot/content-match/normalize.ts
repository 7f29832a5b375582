/**
 * Words of a text as the content matcher compares them, for any language: Unicode letters and
 * digits (`\p{L}`, `\p{N}`), lower-cased, accents folded (NFD, marks dropped: "Größe" → "große",
 * "envío" → "envio"). Scripts written without spaces (Chinese, Japanese, Thai) give overlapping
 * character pairs, so a keyword inside a sentence still matches. The only English-specific step is
 * optional: English function words go, and {@link stemEnglish} touches only words of the letters a–z.
 */

const WORD = /[\p{L}\p{N}]+/gu;
const MARKS = /\p{M}+/gu;
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}]/u;

/**
 * English function words (NLTK's list): in a library of a few tags, "my" or "when" can be in one
 * tag's texts only, and inverse document frequency alone would then count them as topical.
 */
const ENGLISH_STOP = new Set(
  (
    "i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers herself " +
    "it its itself they them their theirs themselves what which who whom this that these those am is are was were be " +
    "been being have has had having do does did doing a an the and but if or because as until while of at by for with " +
    "about against between into through during before after above below to from up down in out on off over under again " +
    "further then once here there when where why how all any both each few more most other some such no nor not only " +
    "own same so than too very s t can will just don should now d ll m o re ve y ain aren couldn didn doesn hadn hasn " +
    "haven isn ma mightn mustn needn shan shouldn wasn weren won wouldn"
  ).split(" "),
);

/** Options of {@link words}. */
export interface WordOptions {
  /** English only: drop English function words, reduce plurals and -ed / -ing forms (default true). */
  english?: boolean;
}

/**
 * The words of `text`, in order, repeated as often as they occur. One-character words of spaced
 * scripts ("a", "I", the "t" of "don't") carry no topic and are dropped.
 *
 * @example
 * words("Wann bekomme ich meine Rückerstattung?", { english: false }) // ["wann", "bekomme", "ich", "meine", "ruckerstattung"]
 * words("Where are my parcels?") // ["parcel"]
 */
export function words(text: string, options: WordOptions = {}): string[] {
  const english = options.english ?? true;
  const out: string[] = [];
  for (const [run] of text.normalize("NFD").replace(MARKS, "").toLowerCase().matchAll(WORD)) {
    if (UNSPACED.test(run)) {
      if (run.length === 1) out.push(run);
      for (let i = 0; i + 1 < run.length; i++) out.push(run.slice(i, i + 2));
    } else if (run.length > 1 && !(english && ENGLISH_STOP.has(run))) {
      out.push(english ? stemEnglish(run) : run);
    }
  }
  return out;
}

/**
 * A light English stem: plural -s/-es/-ies, then -ed/-ing, a doubled final consonant and a final
 * -e go ("refunds" → "refund", "shipped" → "ship", "arrived" and "arrive" → "arriv"). Words with
 * any letter outside a–z, and short words, are returned as they are.
 */
export function stemEnglish(word: string): string {
  if (word.length <= 3 || !/^[a-z]+$/.test(word)) return word;
  let s = word;
  if (s.endsWith("ies") && s.length > 4) s = `${s.slice(0, -3)}y`;
  else if (s.endsWith("sses")) s = s.slice(0, -2);
  else if (s.endsWith("s") && !/(?:ss|us|is)$/.test(s)) s = s.slice(0, -1);
  const suffix = /(?:ing|ed)$/.exec(s)?.[0];
  if (suffix && s.length - suffix.length >= 3 && /[aeiouy]/.test(s.slice(0, -suffix.length))) {
    s = s.slice(0, -suffix.length);
    if (/([b-df-hj-np-rtv-z])\1$/.test(s) && !/(?:ll|ss|zz)$/.test(s)) s = s.slice(0, -1);
  }
  if (s.length > 3 && s.endsWith("e")) s = s.slice(0, -1);
  return s;
}
