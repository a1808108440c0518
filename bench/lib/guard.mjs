// Preloaded into every server the harness starts (NODE_OPTIONS=--import): when the harness dies
// without cleaning up (SIGKILL, OOM), the server notices its parent is gone and exits, so no
// orphaned server keeps a port or a core. One unref'd timer, twice a second: no measurable cost.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL');
}, 500).unref();
