export { startMockUpstream, MockUpstream } from "./server.ts";
export type { MockOptions, RecordedRequest } from "./server.ts";
export type { MockClock } from "./respond.ts";
export { parseFault } from "./faults.ts";
export type { FaultSpec, FaultKind } from "./faults.ts";
export {
  replyTokens,
  chatCompletion,
  chatChunkEvents,
  textCompletion,
  textCompletionEvents,
  embeddings,
  modelList,
  errorBody,
  promptTokens,
  finishReason,
  DONE_EVENT,
} from "./openai-wire.ts";
export type { WireMeta } from "./openai-wire.ts";
