export const HELP = `switchyard: a fast, dependable LLM API gateway

Usage:
  switchyard serve [--config FILE] [--host HOST] [--port PORT] [--log-level LEVEL]
  switchyard check [--config FILE]
  switchyard mock  [--port 9001] [--latency 0ms] [--ttft 0ms] [--tps 0] [--tokens 12] [--fault SPEC]
  switchyard --help | --version

Commands:
  serve   Start the gateway (default 127.0.0.1:4000).
  check   Validate the config and probe every provider, printing a table.
  mock    Start the mock OpenAI-compatible upstream used by tests, benchmarks and demos.

Config file, first found: --config FILE, $SWITCHYARD_CONFIG, ./switchyard.yaml.
With none, the gateway serves the built-in "demo" model plus a provider for
every key found in the environment (OPENAI_API_KEY, OPENROUTER_API_KEY, ...),
reachable as "<provider>/<model>", e.g. "openai/gpt-4o-mini".
`;
