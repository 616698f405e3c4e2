// `duster dap` as the VS Code extension runs it from a checkout (DebugClient starts RUNTIME FILE,
// no arguments): bin/duster.js, which runs the CLI bundle.
process.argv.splice(2, 0, 'dap');
await import('../../../bin/duster.js');
