/**
 * The management model (`orchard-mdm/management`): organization groups with settings inherited
 * or overridden page by page (rules A1-A11 of the management rules), the settings pages, and the
 * profile library (A12, A13). Pure rules (`resolveSettings`, `planSettingsWrite`, `planReparent`)
 * plus services over the storage ports (`createGroupService`, `createProfileLibrary`).
 */
export { buildGroupTree } from './tree.js';
export type { GroupTree } from './tree.js';
export {
  ENROLLMENT_PAGE,
  ENROLLMENT_TYPES,
  PROFILE_OPTIONS_PAGE,
  SELF_SERVICE_PAGE,
  SETTINGS_PAGES,
  completeValues,
  findSettingsPage,
} from './pages.js';
export type { SettingsPage } from './pages.js';
export {
  createResolver,
  effectiveChanged,
  indexSettings,
  pageRecords,
  resolveSettings,
} from './settings.js';
export type {
  EffectiveSettings,
  PageRecords,
  RecordIndex,
  RecordLookup,
  SettingsResolver,
} from './settings.js';
export { mergeValues, planSettingsWrite, recomputeSubtree } from './settings-plan.js';
export type {
  SettingsChange,
  SettingsPlan,
  SettingsReport,
  SettingsWrite,
} from './settings-plan.js';
export { planCreateGroup, planDeleteGroup, planReparent } from './groups-plan.js';
export type { GroupContents, GroupPlan } from './groups-plan.js';
export { createGroupService } from './groups-service.js';
export type {
  ChangeOptions,
  GroupChangeResult,
  GroupService,
  GroupServiceDeps,
  GroupServiceOptions,
  GroupUpdate,
  ManagementState,
  SettingsWriteResult,
} from './groups-service.js';
export { createProfileLibrary } from './profile-library.js';
export type {
  ProfileChange,
  ProfileLibrary,
  ProfileLibraryDeps,
  ProfileOptionsSource,
  ProfileSigner,
  ProfileVersionContent,
  UploadInput,
  VersionResult,
} from './profile-library.js';
export { describeProfile, removalSummary } from './profile-describe.js';
export type {
  CompatibilitySummary,
  ProfileDescription,
  RemovalCase,
  RemovalSummary,
} from './profile-describe.js';
export { renderProfile } from './profile-render.js';
export type { RenderOptions } from './profile-render.js';
export { MAX_PROFILE_BYTES, readUpload } from './profile-upload.js';
export type { ReadUpload, ReadUploadOptions, UploadSigner } from './profile-upload.js';
export { createUserService, userJson } from './users.js';
export type {
  OptionalUserField,
  UserInput,
  UserJson,
  UserPatch,
  UserScope,
  UserService,
  UserServiceDeps,
} from './users.js';
export { importUsers } from './user-import.js';
export type {
  UserImportDeps,
  UserImportOptions,
  UserImportOutcome,
  UserImportReport,
  UserImportRow,
} from './user-import.js';
export { MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, USER_CSV_COLUMNS, parseUserCsv } from './user-csv.js';
export type { ParsedUserCsv, UserCsvField, UserCsvOptions, UserCsvRow } from './user-csv.js';
export {
  MAX_CUSTOM_LENGTH,
  MAX_EMAIL_LENGTH,
  MAX_NAME_LENGTH,
  emailProblem,
  userFieldProblem,
  usernameProblem,
} from './user-fields.js';
export type { UserField } from './user-fields.js';
export { MIN_LINK_LIFETIME_SECONDS, createUserLinks } from './user-links.js';
export type { LinkView, UserLinks, UserLinksDeps } from './user-links.js';
export { linkState, linkStatus, qrCode } from './user-links-qr.js';
export type { LinkState, LinkStatus, QrFormat } from './user-links-qr.js';
export { INVITATION_QR_CID, escapeHtml, invitationMessage } from './invitation.js';
export type { InvitationInput } from './invitation.js';
export { DEFAULT_GENERIC_PREFIX, enrollmentOwnerObserver, linkIdOf } from './enrollment-owners.js';
export type { BoundIdentity, EnrollmentOwnerDeps } from './enrollment-owners.js';
export { createPolicyService } from './policies.js';
export type { PolicyServiceDeps } from './policies.js';
export { MAX_POLICY_DESCRIPTION_LENGTH, MAX_POLICY_NAME_LENGTH } from './policies-rules.js';
export { policyNames, readEffectivePolicy, resolvePolicyRef } from './policies-ref.js';
export {
  applyChange,
  desiredProfiles,
  effectivePolicy,
  groupsWithDefault,
  loadPolicySnapshot,
  reachOf,
  userAfter,
} from './delivery/snapshot.js';
export type { SnapshotStore } from './delivery/snapshot.js';
export { deviceTargetOf, platformOf, targetKey } from './delivery/target.js';
export { createCompatibilityJudge, judgeCompatibility } from './delivery/compatibility.js';
export type { CompatibilityJudge } from './delivery/compatibility.js';
export { resolveVariables, substituteVariables, variablesIn } from './delivery/variables.js';
export {
  applyRemovalControl,
  generateRemovalPassword,
  removalControlPossible,
} from './delivery/removal-control.js';
export { REMOVED_ON_DEVICE, planDevice } from './delivery/plan.js';
export type { PlanInput } from './delivery/plan.js';
export { buildExplainTrace } from './delivery/explain.js';
export type { ExplainInput } from './delivery/explain.js';
export { createDeliveryService } from './delivery/service.js';
export type { DeliveryDeps, DeliveryEngine, DeliveryOptions } from './delivery/service.js';
export { PROFILE_VARIABLES } from './delivery/types.js';
export type {
  AssignmentInput,
  ChangeReport,
  CompatibilityCheck,
  CompatibilityVerdict,
  DeliveryService,
  DesiredProfile,
  DeviceContext,
  DevicePlan,
  DeviceProfileView,
  DeviceProfilesView,
  DeviceTarget,
  EffectivePolicy,
  ExplainDecision,
  ExplainGroup,
  ExplainTrace,
  PlannedAction,
  PolicyChange,
  PolicyChangeOptions,
  PolicyChangeResult,
  PolicyEffects,
  PolicyService,
  PolicySnapshot,
  PolicySource,
  ProfileVariable,
  UnknownFact,
  VariableResolution,
} from './delivery/types.js';
export type { MailAttachment, MailMessage, Mailer } from '../mail/ports.js';
export { ROOT_GROUP_ID, OWNER_PRINCIPAL_ID } from '../storage/ports.js';
export type {
  AdminRole,
  AssignmentType,
  ChildPermission,
  DeliveryChannel,
  DeviceProfileRecord,
  DeviceProfileState,
  DeviceProfileStore,
  OwnedEnrollment,
  OwnedEnrollmentFilter,
  PolicyAssignmentRecord,
  PolicyRecord,
  PolicyReferences,
  PolicyStore,
  ReconcileRecord,
  RemovalControl,
  EnrollmentLinkKind,
  EnrollmentOwner,
  LibraryProfileRecord,
  ManagementChange,
  ManagementSnapshot,
  ManagementStorage,
  OrgGroupRecord,
  OrgGroupStore,
  PrincipalRecord,
  PrincipalStore,
  ProfileLibraryStore,
  ProfileVersionRecord,
  SettingsRecord,
  UserFields,
  UserRecord,
  UserStore,
  UserUpsert,
  UserUpsertOutcome,
} from '../storage/ports.js';
