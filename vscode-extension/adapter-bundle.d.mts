/** Writes DIR/adapter.cjs and DIR/node_modules/iced-x86; returns the adapter's path. */
export function bundleAdapter(dir: string): Promise<string>;
