// The simple commands of a command line, so a `commandRun` check matches `docker pull x && docker history x`
// as it matches each command typed alone. The shell reports the line's exit status (that of the last
// pipeline that ran) and each status of that pipeline (PIPESTATUS); each command gets its own where the
// line's shape says whose it is, and `null` where the command ran but the shell did not say how it ended
// (an earlier command of a `;` list, or of a pipeline before the last). A command that may not have run at
// all (after `&&` or `||` when the status does not tell) is left out.

export type RanCommand = { command: string; exitCode: number | null };

type Connector = ';' | '&' | '&&' | '||';
/** One pipeline of the line and the connector before it (`;` for the first). */
type Pipeline = { before: Connector; commands: string[] };

/**
 * Splits at top-level `;`, `&`, `&&`, `||`, `|`, `|&` and newlines; quotes, backslashes, `$(…)`, `(…)` and
 * redirections such as `2>&1` or `>|` are not separators.
 */
function pipelines(line: string): { list: Pipeline[]; background: boolean } {
  const out: Pipeline[] = [{ before: ';', commands: [] }];
  let word = '';
  let depth = 0;
  const push = () => {
    const command = word.trim();
    if (command) out.at(-1)!.commands.push(command);
    word = '';
  };
  const next = (before: Connector) => {
    push();
    if (out.at(-1)!.commands.length > 0) out.push({ before, commands: [] });
    else out.at(-1)!.before = before;
  };
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    const prev = line[i - 1];
    if (ch === '\\') {
      word += line.slice(i, i + 2);
      i++;
    } else if (ch === "'" || ch === '"') {
      let j = i + 1;
      while (j < line.length && line[j] !== ch) j += ch === '"' && line[j] === '\\' ? 2 : 1;
      word += line.slice(i, j + 1);
      i = j;
    } else if (ch === '(') {
      depth++;
      word += ch;
    } else if (ch === ')') {
      depth = Math.max(0, depth - 1);
      word += ch;
    } else if (depth > 0) {
      word += ch;
    } else if (ch === '\n' || ch === ';') {
      next(';');
    } else if (ch === '&' && line[i + 1] === '&') {
      next('&&');
      i++;
    } else if (ch === '|' && line[i + 1] === '|') {
      next('||');
      i++;
    } else if (ch === '&' && prev !== '>' && prev !== '<' && line[i + 1] !== '>') {
      next('&');
    } else if (ch === '|' && prev !== '>') {
      push();
      if (line[i + 1] === '&') i++;
    } else {
      word += ch;
    }
  }
  push();
  // A trailing `&` put the last list in the background: its status is not the line's.
  const background = out.at(-1)!.commands.length === 0 && out.at(-1)!.before === '&';
  return { list: out.filter((p) => p.commands.length > 0), background };
}

/**
 * The simple commands of `line` that ran, given the status the shell reported for it and, when it did,
 * the status of each command of the last pipeline that ran (`false | true`: `[1, 0]`).
 */
export function commandsRan(line: string, status: number, pipeStatus?: readonly number[]): RanCommand[] {
  const { list, background } = pipelines(line);
  const known: (number | null | undefined)[] = list.map(() => undefined); // undefined: may not have run
  // Backwards from the last pipeline, whose and-or list ended with `status` (unless in the background).
  let chain: number | null = background ? null : status;
  for (let i = list.length - 1; i >= 0; i--) {
    const { before } = list[i]!;
    if (before === ';' || before === '&') {
      // It ran, as the first of its list; the list before it ended with a status the shell does not report.
      known[i] = chain;
      chain = null;
      continue;
    }
    if (chain === null) continue;
    if (before === '&&' && chain === 0) {
      known[i] = 0; // it ran, so what came before succeeded
      chain = 0;
    } else if (before === '||' && chain !== 0) {
      known[i] = chain; // it ran, so what came before failed, with a status not reported
      chain = null;
    } else {
      chain = null; // it may not have run: the status may be an earlier command's
    }
  }
  // The first pipeline of each list ran even when its status is unknown.
  for (let i = 0; i < list.length; i++) {
    if (known[i] === undefined && (list[i]!.before === ';' || list[i]!.before === '&')) known[i] = null;
  }
  // PIPESTATUS is the last pipeline's when that one surely ran (and has as many commands).
  const lastRan = list.length > 0 && !background && known[list.length - 1] !== undefined;
  const own = lastRan && pipeStatus?.length === list.at(-1)!.commands.length ? pipeStatus : undefined;
  const ran: RanCommand[] = [];
  list.forEach((p, i) => {
    const code = known[i];
    if (code === undefined) return;
    p.commands.forEach((command, j) =>
      ran.push({
        command,
        exitCode: i === list.length - 1 && own ? own[j]! : j === p.commands.length - 1 ? code : null,
      }),
    );
  });
  return ran;
}
