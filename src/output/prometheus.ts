/** A Prometheus label value, escaped as the text format requires (\\, ", newline). */
export function labelValue(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
