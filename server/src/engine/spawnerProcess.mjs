// The small process that starts the runtime's commands for the server (spawner.ts says why). Each message
// is one command to run to completion; the answer is its exit, its output (capped) and its errors (capped).
// Plain JavaScript, started without the server's loaders, so it stays small and quick to fork from.
import { spawn } from 'node:child_process';

process.on('message', (m) => {
  const reply = (answer) => process.send?.({ id: m.id, ...answer });
  const child = spawn(m.bin, m.args, { env: m.env, stdio: ['pipe', 'pipe', 'pipe'] });
  const out = [];
  let outBytes = 0;
  let stderr = '';
  let overflow = false;
  let timedOut = false;
  const timer = m.timeoutMs
    ? setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, m.timeoutMs)
    : undefined;
  child.stdout.on('data', (d) => {
    outBytes += d.length;
    if (outBytes <= m.maxOutputBytes) return void out.push(d);
    overflow = true;
    child.kill('SIGKILL');
  });
  child.stderr.on('data', (d) => {
    if (stderr.length < m.maxStderrChars) stderr += d.toString().slice(0, m.maxStderrChars - stderr.length);
  });
  child.on('error', (e) => {
    clearTimeout(timer);
    reply({ error: e.message });
  });
  child.on('close', (code, signal) => {
    clearTimeout(timer);
    reply({ code, signal, stdout: Buffer.concat(out), stderr, overflow, timedOut });
  });
  child.stdin.on('error', () => {});
  child.stdin.end(m.stdin ? Buffer.from(m.stdin) : '');
});

// The server went: so does this (what is running finishes on its own, as it would have). Not before: a
// signal to the whole process group (Ctrl-C, a service manager's stop) finds the server still destroying
// its sandboxes through this process.
process.on('disconnect', () => process.exit(0));
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => {});
