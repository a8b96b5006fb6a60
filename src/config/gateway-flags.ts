// The V8 flags the gateway process runs with, wherever it is started: the console's gateway child
// passes them, deploy/ptui-gateway.service's ExecStart carries the same (a test checks), and the
// benches start ptui with them so they measure the gateway as shipped.

/**
 * A young generation of 4 MB semi-spaces instead of up to 16 MB: under load V8 grows it to 32 MB,
 * most of the gap between the gateway's RSS and a bare Node proxy's (BENCHMARKS.md, gateway
 * memory), while the live heap stays under 20 MB. It can only be set on the command line.
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
