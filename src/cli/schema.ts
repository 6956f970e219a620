import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { configJsonSchemaText } from "../config/json-schema.ts";

/** Prints the config file's JSON Schema, or writes it to --output (how switchyard.schema.json is made). */
export async function runSchema(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { output: { type: "string", short: "o" } } });
  const text = configJsonSchemaText();
  if (values.output === undefined) {
    process.stdout.write(text);
  } else {
    await writeFile(values.output, text);
    console.log(`wrote ${values.output}`);
  }
  return 0;
}
