/**
 * The one catalogue of edgeos error codes: every `EdgeosError` code (and the one process-warning
 * code) is declared here once, with the subsystem that raises it, what it means and the class that
 * carries it. `EdgeosError`'s constructor takes only these codes, so a code cannot be invented at a
 * throw site. docs/errors.md lists them for people; test/unit/common/error-codes.test.ts checks the
 * table against the tree.
 *
 * The scheme: `<AREA>_<CONDITION>` in upper snake case, where AREA is one of `errorAreas` below
 * (mostly a subsystem's name: STORE, RUNTIME, PKI, …). No product prefix: every EdgeosError is
 * ours, and the prefix used to blur error codes with the EDGEOS_* environment variables. Codes are
 * public API; the link's codes (TUNNEL_*, LINK_*, STATS_*) cross the wire between agents and
 * servers of different versions and are never renamed. Renames are listed in docs/errors.md.
 */
import { linkErrorCodes } from './link/error-codes.ts';
import type { LinkErrorCode } from './link/error-codes.ts';

export type Subsystem = 'common' | 'cli' | 'scripts' | 'store' | 'runtime' | 'server' | 'agent' | 'link';

export interface ErrorCodeInfo {
  readonly subsystem: Subsystem;
  /** What happened, for a person reading a log or a bug report. */
  readonly meaning: string;
  /** The class that carries the code (its name), or how the code is used when no class does. */
  readonly raisedAs: string;
}

/** The first word of every code, and what it covers. */
export const errorAreas = {
  INPUT: 'a value a person supplied (flag, file, manifest)',
  SEA: 'the single executable and its embedded assets',
  BUNDLE: '`edgeos bundle create`',
  TOKEN: '`edgeos token`',
  BUILD: 'the build of the single executable (scripts/build-sea.ts)',
  STORE: 'the revisioned key/value store',
  RUNTIME: 'the container runtime: CRI calls, images, the private containerd',
  KUBELET: "the agent's kubelet",
  SERVICES: "the agent's Service datapath and cluster DNS",
  JOIN: 'joining a device to a cluster',
  AGENT: 'starting the agent',
  TUNNEL: 'byte streams between the API and an agent (logs, exec, attach, port-forward)',
  LINK: "the agent ↔ server link",
  STATS: "resource usage fetched over the link (metrics.k8s.io)",
  SERVER: "the server's own components",
  PKI: "the cluster's certificates",
  API: 'the Kubernetes API',
  KIND: "a built-in kind's write hooks (src/server/kinds)",
  PATCH: 'PATCH and server-side apply',
  PROTOBUF: "kubectl's protobuf request bodies",
  CONTROLLER: "the controllers' API client",
} as const;

export type ErrorArea = keyof typeof errorAreas;

const declared = {
  // common
  INPUT_INVALID: { subsystem: 'common', raisedAs: 'InvalidInputError', meaning: 'A flag, file or manifest value is wrong; the message names it and says how to fix it.' },
  SEA_ASSET_MISSING: { subsystem: 'common', raisedAs: 'EdgeosError', meaning: 'The executable carries no such embedded asset (it was not built with npm run build).' },
  SEA_CONSOLE_UNAVAILABLE: { subsystem: 'server', raisedAs: 'EdgeosError', meaning: 'A source run cannot build the web console: scripts/build-console.ts is not beside it (the executable carries the console built).' },
  SEA_ASSET_CORRUPT: { subsystem: 'common', raisedAs: 'EdgeosError', meaning: 'An embedded asset does not unpack to its recorded SHA-256: the executable is damaged.' },
  SEA_ADDON_LOAD: { subsystem: 'common', raisedAs: 'EdgeosError', meaning: 'The embedded SQLite addon cannot be written out or loaded; the message lists every path tried.' },
  SEA_CODE_CACHE_REJECTED: { subsystem: 'cli', raisedAs: 'process warning (process.emitWarning code)', meaning: "V8 rejected the executable's code cache (other V8 version or flags): this start compiles the script." },
  // cli
  BUNDLE_TOOL_MISSING: { subsystem: 'cli', raisedAs: 'EdgeosError', meaning: 'bundle create needs dpkg/apt-get (Debian or Ubuntu) to take containerd, runc and CNI from packages.' },
  BUNDLE_RUNTIME_MISSING: { subsystem: 'cli', raisedAs: 'EdgeosError', meaning: 'A runtime package or one of its executables cannot be found, downloaded or unpacked for the target architecture.' },
  BUNDLE_BINARY_MISSING: { subsystem: 'cli', raisedAs: 'EdgeosError', meaning: 'There is no edgeos executable of the target architecture to ship.' },
  BUNDLE_BINARY_BROKEN: { subsystem: 'cli', raisedAs: 'EdgeosError', meaning: 'The edgeos executable to ship does not run (`--version` failed).' },
  BUNDLE_CHECKSUM_MISMATCH: { subsystem: 'cli', raisedAs: 'EdgeosError', meaning: 'The executable to ship does not match its .sha256 file, or that file is missing.' },
  BUNDLE_INSTALLER_MISSING: { subsystem: 'cli', raisedAs: 'EdgeosError', meaning: 'installer/install.sh is not beside this source checkout.' },
  TOKEN_SERVER_UNREACHABLE: { subsystem: 'cli', raisedAs: 'EdgeosError', meaning: '`edgeos token` cannot reach the server.' },
  TOKEN_API_FAILED: { subsystem: 'cli', raisedAs: 'EdgeosError', meaning: 'The server answered a token request with an error status.' },
  TOKEN_NOT_FOUND: { subsystem: 'cli', raisedAs: 'EdgeosError', meaning: 'There is no join token with that id.' },
  // scripts
  BUILD_STEP_FAILED: { subsystem: 'scripts', raisedAs: 'EdgeosError', meaning: 'A build step (esbuild, postject, strip, …) failed; the message carries its output.' },
  BUILD_TOOL_MISSING: { subsystem: 'scripts', raisedAs: 'EdgeosError', meaning: 'A tool the build needs is not in PATH; the message names the Debian package.' },
  BUILD_WRONG_ARCH: { subsystem: 'scripts', raisedAs: 'EdgeosError', meaning: 'A binary that goes into the executable is not an ELF file of the target architecture.' },
  BUILD_NODE_MISSING: { subsystem: 'scripts', raisedAs: 'EdgeosError', meaning: 'The official Node binary of the target architecture is not pinned or cannot be fetched.' },
  BUILD_PREBUILD_MISSING: { subsystem: 'scripts', raisedAs: 'EdgeosError', meaning: 'The better-sqlite3 prebuild for the target architecture is missing from node_modules (run npm ci).' },
  // store
  STORE_KEY_EXISTS: { subsystem: 'store', raisedAs: 'KeyExistsError', meaning: 'create() of a key that exists (API: 409 AlreadyExists).' },
  STORE_NOT_FOUND: { subsystem: 'store', raisedAs: 'NotFoundError (store)', meaning: 'get/update/delete of a key that does not exist (API: 404 NotFound).' },
  STORE_CONFLICT: { subsystem: 'store', raisedAs: 'ConflictError (store)', meaning: 'Compare-and-swap mismatch (API: 409 Conflict).' },
  STORE_COMPACTED: { subsystem: 'store', raisedAs: 'CompactedError', meaning: 'A read or watch at a revision compaction removed (API: 410 Expired).' },
  STORE_FUTURE_REVISION: { subsystem: 'store', raisedAs: 'FutureRevisionError', meaning: 'A revision newer than the current one (API: 504 Timeout).' },
  STORE_INVALID_KEY: { subsystem: 'store', raisedAs: 'InvalidKeyError', meaning: 'A malformed key.' },
  STORE_INVALID_REVISION: { subsystem: 'store', raisedAs: 'StoreError', meaning: 'A revision that is not a non-negative integer.' },
  STORE_VALUE_TOO_LARGE: { subsystem: 'store', raisedAs: 'ValueTooLargeError', meaning: 'A value over the size limit (API: 413).' },
  STORE_CORRUPT: { subsystem: 'store', raisedAs: 'DatabaseError', meaning: 'The database file is not SQLite or is damaged; restore a snapshot or move it aside.' },
  STORE_LOCKED: { subsystem: 'store', raisedAs: 'DatabaseError', meaning: 'Another process holds the database file (another edgeos on the same --data-dir?).' },
  STORE_READONLY: { subsystem: 'store', raisedAs: 'DatabaseError', meaning: 'The database file or its file system is read-only.' },
  STORE_OPEN_FAILED: { subsystem: 'store', raisedAs: 'DatabaseError', meaning: 'The database cannot be opened or restored (path is a directory, cannot be created, …).' },
  STORE_SCHEMA: { subsystem: 'store', raisedAs: 'DatabaseError', meaning: 'The database comes from a newer edgeos.' },
  STORE_SNAPSHOT_FAILED: { subsystem: 'store', raisedAs: 'StoreError', meaning: 'Writing a snapshot of the database failed.' },
  STORE_WATCH_FAILED: { subsystem: 'store', raisedAs: 'StoreError', meaning: "Replaying a watch's history failed." },
  STORE_UNAVAILABLE: { subsystem: 'store', raisedAs: 'DatabaseError', meaning: 'The PostgreSQL datastore cannot be reached (refused, timed out, connection lost); /readyz turns red until it is back.' },
  STORE_NOT_LEADER: { subsystem: 'store', raisedAs: 'StoreError', meaning: 'compact() on a server that does not hold the PostgreSQL maintenance lock; the leader compacts.' },
  STORE_QUERY_FAILED: { subsystem: 'store', raisedAs: 'StoreError', meaning: 'PostgreSQL refused a statement for a reason other than a lost connection (its message is kept).' },
  STORE_CLOSED: { subsystem: 'store', raisedAs: 'ClosedError', meaning: 'The store was closed (shutdown); the operation did not happen.' },
  // runtime
  RUNTIME_NOT_FOUND: { subsystem: 'runtime', raisedAs: 'RuntimeNotFoundError', meaning: 'The sandbox, container or image a call names does not exist (gRPC NOT_FOUND).' },
  RUNTIME_ALREADY_EXISTS: { subsystem: 'runtime', raisedAs: 'RuntimeAlreadyExistsError', meaning: 'A name is already taken (gRPC ALREADY_EXISTS, "name is reserved").' },
  RUNTIME_UNAVAILABLE: { subsystem: 'runtime', raisedAs: 'RuntimeUnavailableError', meaning: 'containerd did not answer even after retries (gRPC UNAVAILABLE).' },
  RUNTIME_TIMEOUT: { subsystem: 'runtime', raisedAs: 'RuntimeTimeoutError', meaning: "A call's deadline passed (gRPC DEADLINE_EXCEEDED) or a wait timed out." },
  RUNTIME_INVALID_REQUEST: { subsystem: 'runtime', raisedAs: 'RuntimeInvalidRequestError', meaning: 'The runtime rejected a request as malformed or impossible now (gRPC INVALID_ARGUMENT, FAILED_PRECONDITION).' },
  RUNTIME_UNIMPLEMENTED: { subsystem: 'runtime', raisedAs: 'RuntimeUnimplementedError', meaning: 'The runtime does not implement the call (gRPC UNIMPLEMENTED).' },
  RUNTIME_CALL_FAILED: { subsystem: 'runtime', raisedAs: 'RuntimeCallError', meaning: 'Any other failure the runtime reported (gRPC UNKNOWN, INTERNAL, …), or a call outside the CRI schema.' },
  RUNTIME_STOPPED: { subsystem: 'runtime', raisedAs: 'RuntimeError', meaning: 'The runtime was stopped while it was starting.' },
  RUNTIME_IMAGE_INVALID_REFERENCE: { subsystem: 'runtime', raisedAs: 'ImageReferenceError', meaning: "An image reference that cannot be parsed (kubelet's InvalidImageName)." },
  RUNTIME_IMAGE_NOT_FOUND: { subsystem: 'runtime', raisedAs: 'ImageNotFoundError', meaning: 'The registry has no such image or tag.' },
  RUNTIME_IMAGE_PULL_FAILED: { subsystem: 'runtime', raisedAs: 'ImagePullError', meaning: 'A pull failed for another reason (unreachable, unauthorized, corrupt layer).' },
  RUNTIME_IMAGE_IMPORT_FAILED: { subsystem: 'runtime', raisedAs: 'ImageImportError', meaning: 'An image tarball could not be imported into containerd.' },
  RUNTIME_CONTAINERD_FAILED: { subsystem: 'runtime', raisedAs: 'ContainerdError', meaning: 'The private containerd could not be started, or exited and could not be restarted.' },
  // agent
  KUBELET_CONTAINER_CONFIG: { subsystem: 'agent', raisedAs: 'ContainerConfigError', meaning: "A container's configuration cannot be built from the cache (kubelet's CreateContainerConfigError)." },
  KUBELET_VOLUME_SETUP: { subsystem: 'agent', raisedAs: 'VolumeSetupError', meaning: "A volume could not be set up (kubelet's FailedMount)." },
  SERVICES_TOOL_MISSING: { subsystem: 'agent', raisedAs: 'ServicesError', meaning: 'nft, ip or conntrack is not installed; the message names the package (the agent refuses to start without nft).' },
  SERVICES_NFT_REFUSED: { subsystem: 'agent', raisedAs: 'ServicesError', meaning: 'The kernel refused an nftables transaction: nothing of it applied, the last good table stays.' },
  SERVICES_HOST_NETWORK: { subsystem: 'agent', raisedAs: 'ServicesError', meaning: 'The node-local cluster DNS address or the Service CIDR route could not be set up.' },
  TUNNEL_CONTAINER_WAITING: { subsystem: 'agent', raisedAs: 'ContainerWaitingError', meaning: 'logs: the container has not been created on this node yet.' },
  TUNNEL_NO_PREVIOUS_CONTAINER: { subsystem: 'agent', raisedAs: 'NoPreviousContainerError', meaning: 'logs --previous: there is no earlier instance of the container.' },
  TUNNEL_CONTAINER_NOT_FOUND: { subsystem: 'agent', raisedAs: 'ContainerNotRunningError', meaning: 'exec/attach: no running container of that name in the pod.' },
  TUNNEL_POD_NOT_FOUND: { subsystem: 'agent', raisedAs: 'PodNotRunningError', meaning: 'port-forward: the pod has no ready sandbox on this node.' },
  TUNNEL_BAD_UPGRADE_HEAD: { subsystem: 'agent', raisedAs: 'UpgradeHeadError', meaning: 'The request head to replay is missing or not an HTTP/1.1 upgrade request.' },
  TUNNEL_STREAMING_SERVER: { subsystem: 'agent', raisedAs: 'StreamingServerError', meaning: "containerd's streaming server could not be reached." },
  JOIN_UNREACHABLE: { subsystem: 'agent', raisedAs: 'JoinError', meaning: "No server URL of the join token answered." },
  JOIN_CA_MISMATCH: { subsystem: 'agent', raisedAs: 'JoinError', meaning: "The server's CA does not match the token's caHash: nothing was sent to it." },
  JOIN_TOKEN_REJECTED: { subsystem: 'agent', raisedAs: 'JoinError', meaning: 'The server refused the token (unknown, deleted, wrong secret, expired).' },
  JOIN_NODE_EXISTS: { subsystem: 'agent', raisedAs: 'JoinError', meaning: 'A node of that name is already joined.' },
  JOIN_ALREADY_JOINED: { subsystem: 'agent', raisedAs: 'JoinError', meaning: 'The data dir already holds a joined node.' },
  JOIN_FAILED: { subsystem: 'agent', raisedAs: 'JoinError', meaning: 'The server answered the join with something unexpected.' },
  AGENT_NOT_JOINED: { subsystem: 'agent', raisedAs: 'JoinError', meaning: 'The data dir holds no joined node (`edgeos agent` before `edgeos join`).' },
  // server
  SERVER_LISTENER_FAILED: { subsystem: 'server', raisedAs: 'EdgeosError', meaning: 'The HTTPS listener failed after it started: the server shuts down.' },
  SERVER_API_FAILED: { subsystem: 'server', raisedAs: 'EdgeosError', meaning: "The API's bootstrap (default namespaces, stored CRDs) failed: the server shuts down." },
  SERVER_CONTROLLERS_FAILED: { subsystem: 'server', raisedAs: 'EdgeosError', meaning: 'The controllers failed to start: the server shuts down.' },
  SERVER_AGENT_FAILED: { subsystem: 'server', raisedAs: 'EdgeosError', meaning: 'The local agent failed to start: the server shuts down.' },
  SERVER_TOKEN_REQUIRED: { subsystem: 'server', raisedAs: 'EdgeosError', meaning: 'The datastore already holds a cluster and this server was given no server token (--token, --token-file).' },
  SERVER_TOKEN_MISMATCH: { subsystem: 'server', raisedAs: 'EdgeosError', meaning: "The server token does not open the cluster's bootstrap data in the datastore: it is another cluster's token." },
  SERVER_BOOTSTRAP_UNREADABLE: { subsystem: 'server', raisedAs: 'EdgeosError', meaning: "The cluster's bootstrap data in the datastore is not a record this edgeos can read (damaged, or from a newer edgeos)." },
  SERVER_CLUSTER_MISMATCH: { subsystem: 'server', raisedAs: 'EdgeosError', meaning: "The data dir holds the CA of another cluster than the datastore's; join with an empty --data-dir." },
  PKI_CORRUPT: { subsystem: 'server', raisedAs: 'PkiError', meaning: 'A PEM file cannot be parsed.' },
  PKI_INCOMPLETE: { subsystem: 'server', raisedAs: 'PkiError', meaning: 'Only one half of a certificate/key pair exists.' },
  PKI_MISMATCH: { subsystem: 'server', raisedAs: 'PkiError', meaning: 'A key does not belong to its certificate, or a certificate was not issued by the cluster CA.' },
  PKI_BAD_CSR: { subsystem: 'server', raisedAs: 'PkiError', meaning: 'A certificate signing request is malformed or its signature does not verify.' },
  PKI_WRITE_FAILED: { subsystem: 'server', raisedAs: 'PkiError', meaning: 'Writing a certificate or key failed.' },
  API_STATUS: { subsystem: 'server', raisedAs: 'ApiError (storage/status.ts)', meaning: 'A request fails with a Kubernetes Status; its HTTP status, reason and details say which.' },
  KIND_FIELD_REJECTED: { subsystem: 'server', raisedAs: 'FieldRejectedError', meaning: "A kind's write hook refused a field, e.g. a ClusterIP or NodePort that is taken or out of range; the API answers 422 Invalid." },
  KIND_ALLOCATION_FAILED: { subsystem: 'server', raisedAs: 'AllocationFailedError', meaning: "A kind's write hook could not allocate what the write needs (the ClusterIP or NodePort range is full); the API answers 500." },
  PATCH_UNPARSABLE: { subsystem: 'server', raisedAs: 'PatchError', meaning: 'A patch body is not JSON/YAML of the shape its patch type requires (400).' },
  PATCH_INAPPLICABLE: { subsystem: 'server', raisedAs: 'PatchError', meaning: 'A well-formed patch that does not apply to the object (422).' },
  PATCH_UNSUPPORTED_MEDIA_TYPE: { subsystem: 'server', raisedAs: 'PatchError', meaning: 'A patch type not accepted for this kind, e.g. strategic merge of a custom resource (415).' },
  PATCH_APPLY_INVALID: { subsystem: 'server', raisedAs: 'ApplyRequestError', meaning: 'A malformed apply request (no fieldManager, managedFields set, …) (400).' },
  PROTOBUF_CORRUPT: { subsystem: 'server', raisedAs: 'ProtobufDecodeError', meaning: 'A protobuf body that does not decode (400).' },
  PROTOBUF_UNSUPPORTED_KIND: { subsystem: 'server', raisedAs: 'ProtobufDecodeError', meaning: 'A protobuf body of a kind this server has no protobuf definition for (415).' },
  CONTROLLER_NOT_FOUND: { subsystem: 'server', raisedAs: 'NotFoundError (controllers)', meaning: "The controllers' API client got 404 NotFound." },
  CONTROLLER_CONFLICT: { subsystem: 'server', raisedAs: 'ConflictError (controllers)', meaning: "The controllers' API client got 409 Conflict." },
  CONTROLLER_ALREADY_EXISTS: { subsystem: 'server', raisedAs: 'AlreadyExistsError (controllers)', meaning: "The controllers' API client got 409 AlreadyExists." },
  CONTROLLER_API_ERROR: { subsystem: 'server', raisedAs: 'ApiError (controllers)', meaning: "The controllers' API client got another error status, or the request failed in transport (status 0)." },
} as const satisfies Record<string, ErrorCodeInfo>;

const fromLink = Object.fromEntries(
  Object.entries(linkErrorCodes).map(([code, meaning]) => [code, { subsystem: 'link', raisedAs: 'LinkError, or the error of a link ack', meaning }]),
) as Record<LinkErrorCode, ErrorCodeInfo>;

export type ErrorCode = keyof typeof declared | LinkErrorCode;

// A code declared here and in the link's set would be two entries for one code: refuse to compile.
const noLinkCodeTwice: Extract<keyof typeof declared, LinkErrorCode> extends never ? true : never = true;
void noLinkCodeTwice;

/** Every code, once. */
export const errorCodes: Readonly<Record<ErrorCode, ErrorCodeInfo>> = { ...declared, ...fromLink };

/** The codes of one area, as a type: `AreaCode<'STORE'>` is 'STORE_KEY_EXISTS' | 'STORE_NOT_FOUND' | …. */
export type AreaCode<A extends ErrorArea> = Extract<ErrorCode, `${A}_${string}`>;
