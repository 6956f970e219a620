export const HELP = `switchyard: a fast, dependable LLM API gateway

Usage:
  switchyard serve  [--config FILE] [--host HOST] [--port PORT] [--workers N] [--log-level LEVEL] [--log-format FORMAT]
  switchyard check  [--config FILE]
  switchyard schema [--output FILE]
  switchyard mock   [--port 9001] [--latency 0ms] [--ttft 0ms] [--tps 0] [--tokens 12] [--fault SPEC]
  switchyard --help | --version
  switchyard COMMAND --help

Commands:
  serve   Start the gateway (default 127.0.0.1:4000).
  check   Validate the config and probe every provider, printing a table.
  schema  Print the JSON Schema of the config file, for editors.
  mock    Start the mock OpenAI-compatible upstream used by tests, benchmarks and demos.

Config file, first found: --config FILE, $SWITCHYARD_CONFIG, ./switchyard.yaml.
With none, the gateway serves the built-in "demo" model plus a provider for
every key found in the environment (OPENAI_API_KEY, OPENROUTER_API_KEY, ...),
reachable as "<provider>/<model>", e.g. "openai/gpt-4o-mini".
`;

const CONFIG_OPTION = `  -c, --config FILE      the config file; else $SWITCHYARD_CONFIG, else ./switchyard.yaml
                         (or .yml), else the built-in demo setup plus providers for the
                         API keys found in the environment`;

export const SERVE_HELP = `Usage: switchyard serve [options]

Starts the gateway and serves until SIGINT or SIGTERM (SIGHUP is logged and ignored).

${CONFIG_OPTION}
      --host HOST        address to listen on (server.host; default 127.0.0.1)
  -p, --port PORT        port to listen on, 0 for any free one (server.port; default 4000)
  -w, --workers N        worker threads sharing the port (server.workers; default 1)
      --log-level LEVEL  fatal, error, warn, info, debug, trace or silent (server.log_level; default info)
      --log-format FORMAT  json or pretty (server.log_format; default json)
  -h, --help             show this help

Options override the config file's values.
`;

export const CHECK_HELP = `Usage: switchyard check [options]

Validates the config, then asks every provider for its model list (which costs no
tokens) and prints one row per provider. Exits 0 when every provider answered with
a 2xx, 1 otherwise or when the config is invalid.

${CONFIG_OPTION}
  -h, --help             show this help
`;

export const SCHEMA_HELP = `Usage: switchyard schema [--output FILE]

Prints the JSON Schema of the config file, as written (before \${VAR}
references are replaced). Editors that read a first line such as
  # yaml-language-server: $schema=./switchyard.schema.json
(VS Code's YAML extension, and others built on yaml-language-server) then
complete keys, show each key's help and flag mistakes as you type. The
package ships it as switchyard.schema.json.

  -o, --output FILE      write it to FILE instead
  -h, --help             show this help
`;
