export { startMockUpstream, MockUpstream } from "./server.ts";
export type { MockOptions, RecordedRequest } from "./server.ts";
export type { MockClock } from "./respond.ts";
export { parseFault } from "./faults.ts";
export type { FaultSpec, FaultKind } from "./faults.ts";
export {
  replyTokens,
  chatCompletion,
  chatChunkEvents,
  chatStream,
  textCompletion,
  textCompletionEvents,
  embeddings,
  modelList,
  errorBody,
  promptTokens,
  finishReason,
  DONE_EVENT,
} from "./openai-wire.ts";
export type { ChatExtras, WireMeta } from "./openai-wire.ts";
export { argumentsFor, argumentPieces, chatPlan } from "./openai-tools.ts";
export type { ChatPlan, ToolCall } from "./openai-tools.ts";
