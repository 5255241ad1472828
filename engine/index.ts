/** The public surface of engine/: what api/ may use. Add explicit exports here; never `export *`. */

// events
export { EVENT_TYPES, type EventType, type FlockEvent, type JsonObject } from './event/model.ts';
export { MAX_BATCH_EVENTS, MAX_EVENT_BYTES, MAX_IDENTIFIER_LENGTH, MAX_JSON_DEPTH, MAX_REQUEST_BYTES } from './event/limits.ts';
export { REJECTION_CODES, type Rejection, type RejectionCode } from './event/rejection.ts';
export { normalizeCall, type Inherited, type NormalizeMeta, type NormalizeResult } from './event/normalize.ts';
export { normalizeBatch, type BatchRejection, type BatchResult } from './event/normalize-batch.ts';

// the event log
export type { EventLog, LoggedEvent } from './log/event-log.ts';
export { openEventLog, type EventLogConfig } from './log/open-event-log.ts';

// spaces and configuration
export { DEVELOPMENT_SPACE, type Space, type SpaceWithKeys, type WriteKeyGrant } from './space/space.ts';
export { staticSpaceDirectory, type SpaceDirectory, type TokenGrant } from './space/space-directory.ts';
export { CONFIG_SETTINGS, configHelp, loadConfig, type ConfigIssue, type ConfigResult, type FlockConfig } from './config.ts';

// the engine
export { startEngineThread, EngineThreadError, type EngineThread, type EngineThreadConfig, type EngineThreadMessage } from './service/engine-thread.ts';
export { isTransientLogError } from './log/retry.ts';
export { isStorageFull, storageGuard, StorageFullError, type StorageGuardConfig } from './store/storage-guard.ts';
export { Engine, PAUSE_REASONS, decodeChangeRecord, encodeChangeRecords, type EngineOptions, type EngineStats, type PauseReason } from './engine.ts';
export type { Change, MembershipChange, TraitChange } from './runtime/change.ts';
export { CheckpointStore, type OutputRow } from './store/checkpoint-store.ts';
export { openAppendLog, CHANGE_LOG, EVENT_LOG } from './log/open-event-log.ts';
export type { AppendLog, LogRecord, LogEntry } from './log/append-log.ts';
export { loadDefinitionsFile, definitionsFromJson, readDefinitionEntries, type DefinitionProblem } from './definitions/definitions-file.ts';

// the definition registry (management API writes, engine reads and reports)
export {
  DefinitionRegistry,
  RegistryError,
  type ComputeDefinition,
  type ComputeVersion,
  type CreateDefinitionInput,
  type ListPage,
  type PreviewReport,
  type RegistryErrorCode,
  type SeedEntry,
  type SeedResult,
  type ServedDefinition,
  type StatusReport,
  type UpdateDefinitionInput,
  type ValidationResult,
} from './definitions/registry.ts';
export {
  BATCH_INTERVALS,
  DEFINITION_STATUSES,
  latestVersion,
  servingVersion,
  type BatchInterval,
  type ComputeCadence,
  type DefinitionKind,
  type DefinitionOptions,
  type DefinitionRecord,
  type DefinitionStatus,
  type DefinitionTargetType,
  type DefinitionVersion,
  type PreviewRecord,
  type PreviewResult,
} from './definitions/registry-record.ts';

// profiles (Profile API) and the explorer
export { directProfileLocator, type Collection, type LocateResult, type ProfileExternalId, type ProfileFinder, type ProfileLocator } from './profiles/profile-locator.ts';
export type { ProfileEvent, ProfileEventIndex, ProfileEventQuery, ProfileLink, ProfileLinkIndex } from './profiles/profile-sources.ts';
export { ProfileReader, ProfileStoreUnavailableError, type ProfileTrait, type ProfileView, type ProfileViewReader, type TraitClass } from './profiles/profile-reader.ts';
export { engineStorePath, readOnlyStore, type StoreHandle } from './profiles/store-handle.ts';
export { identityLinkIndex, identityProfileLocator } from './profiles/identity-locator.ts';
// the API role (distributed mode): the Profile API's sources answered by the owners over NATS
export { ClusterReadError, QueryAnswerError, type ClusterReadErrorCode } from './cluster/read-queries.ts';
export { remoteProfiles, type RemoteProfiles, type RemoteProfilesOptions } from './cluster/remote-profiles.ts';
export { remoteSizes, type RemoteSizes, type RemoteSizesOptions } from './cluster/remote-sizes.ts';
export { DEFINITIONS_BUCKET, openDefinitionsBucket, type DefinitionOp } from './cluster/definitions-home.ts';
export { DefinitionsReplica, type DefinitionsReplicaOptions } from './cluster/definitions-replica.ts';
export { ExplorerStore, STEP_MS, type RecentChange, type SizePoint, type Step } from './explorer/explorer-store.ts';
export { followChanges, type ChangeFollower } from './explorer/change-follower.ts';

// membership history, as-of queries and explanations
export { holds, outputOf, SIZE_STEP_MS, type HistoryEntry, type HistoryVersion, type MemberAt, type SizeStep } from './history/history-store.ts';
export { explainProfile, historyRange, historyVersion, type ExplanationResult, type HistoryVersionInfo } from './history/history-reader.ts';
export { ExplainError, type ConditionExplanation, type Explanation, type ExplainEvent, type LastChange } from './history/explain.ts';
export { indexedProfileEvents, profileEvent, type EventSource } from './history/profile-events.ts';
export type { ChangeCause } from './runtime/change.ts';

// identity resolution
export { IdentityGraph, type IdentityGraphOptions, type IdentityStats, type Refusal } from './identity/identity-graph.ts';
export {
  DEFAULT_BLOCKED,
  DEFAULT_IDENTITY_RULES,
  DEFAULT_IDENTIFIER_TYPES,
  LIMIT_WINDOWS,
  identityRules,
  type BlockedValue,
  type IdentifierConfig,
  type IdentityRules,
  type IdentityRulesConfig,
  type IdentityRulesIssue,
  type IdentityRulesResult,
} from './identity/rules.ts';
export {
  canonicalProfile,
  lookupProfile,
  parseProfileIdentifier,
  profileExternalIds,
  type IdentityExternalId,
  type LookupError,
  type LookupOptions,
  type LookupResult,
} from './identity/lookup.ts';
export type { IdentityReader, AccountUsersReader, MergeRecord } from './identity/records.ts';
export { unidentified } from './identity/unidentified.ts';
export { escapeKey, unescapeKey, unescapeKeys } from './event/safe-keys.ts';

// the query language
export { definitionToJson, parseDefinition, parseDefinitionJson, printDefinition, referencedKeys } from './lang/index.ts';
export type { Definition, DefinitionTarget } from './lang/ast.ts';
export type { Diagnostic, DiagnosticCode } from './lang/diagnostic.ts';

// CSV exports (engine/export)
export { ExportJobs, type ExportJob, type ExportJobsConfig, type ExportStartResult, type ExportStatus } from './export/export-jobs.ts';
export { AUDIENCE_FORMATS, TRAIT_FORMATS, exportOptions, type ExportFormatName, type ExportOptions, type ExportOptionsInput, type ExportProblem } from './export/export-format.ts';

// destinations (engine/destinations): delivery of audiences and traits to webhooks, Segment-compatible APIs, NATS and lists
export {
  DEFAULT_IDENTIFIERS,
  DEFAULT_LIMITS,
  DEFAULT_LIST_PERIOD_MS,
  DEFAULT_NAMES,
  DEFAULT_RETRY,
  DESTINATION_KINDS,
  ID_SYNC_STRATEGIES,
  LIMIT_PRESETS,
  presetLimits,
  type ConnectionRecord,
  type DestinationKind,
  type DestinationRecord,
  type DestinationSettings,
  type IdentifierChoice,
  type RateLimits,
} from './destinations/destination-record.ts';
export { DestinationError, DestinationStore, type DeadLetter, type DestinationStatus, type NewConnection, type NewDestination } from './destinations/destination-store.ts';
export { DeliveryService, type DeliveryServiceConfig } from './destinations/delivery-service.ts';
export { signBody, verifySignature, SIGNATURE_HEADER } from './destinations/signature.ts';
export { listValue } from './destinations/list-values.ts';
export { startDeliveryThread, type DeliveryThread, type DeliveryThreadConfig, type DeliveryThreadMessage } from './service/delivery-thread.ts';
