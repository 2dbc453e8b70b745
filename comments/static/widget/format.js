/* Turns numbers, dates and message templates into the words a reader sees, through Intl. */

const UNITS = [
  ["year", 31536000],
  ["month", 2592000],
  ["week", 604800],
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];

/** Fill the {placeholders} of a message template. */
export function format(template, values) {
  return template.replace(/\{(\w+)\}/g, (match, key) => (key in values ? String(values[key]) : match));
}

/**
 * A message with a number, in the form the locale's plural rules pick ("1 comment", "12 comments"),
 * or the `none` form for zero where the catalog has one ("No comments yet").
 */
export function plural(forms, n, locale) {
  if (n === 0 && forms.none) return forms.none;
  const form = new Intl.PluralRules(locale).select(n);
  return format(forms[form] ?? forms.other, { n: new Intl.NumberFormat(locale).format(n) });
}

/** "3 minutes ago": how long ago `date` was, never in the future even if clocks disagree. */
export function relativeTime(date, locale, now = Date.now()) {
  const seconds = Math.min(0, Math.round((date.getTime() - now) / 1000));
  const [unit, size] = UNITS.find(([, size]) => -seconds >= size) ?? UNITS[UNITS.length - 1];
  return new Intl.RelativeTimeFormat(locale, { numeric: "auto" }).format(Math.round(seconds / size), unit);
}

/** The full date and time, for hovering over a relative one. */
export function absoluteTime(date, locale) {
  return new Intl.DateTimeFormat(locale, { dateStyle: "long", timeStyle: "short" }).format(date);
}

/** "45 seconds", "2 minutes", "1 hour": a wait in the largest whole unit that fits. */
export function formatWait(seconds, locale) {
  const [unit, size] = UNITS.slice(4).find(([, size]) => seconds >= size) ?? ["second", 1];
  const value = Math.ceil(seconds / size);
  return new Intl.NumberFormat(locale, { style: "unit", unit, unitDisplay: "long" }).format(value);
}
