import type { PreparedProvider, ProviderAdapter } from "../providers/types.ts";
import type { Transport } from "./transport.ts";

/** One configured provider, ready for calls: its prepared settings, its adapter and the transport that reaches it. */
export interface ProviderRuntime {
  prepared: PreparedProvider;
  adapter: ProviderAdapter;
  transport: Transport;
}
