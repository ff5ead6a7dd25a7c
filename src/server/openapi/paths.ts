/**
 * Path items of a group/version document, shaped like kube-apiserver's OpenAPI v3 output. What
 * kubectl relies on: every PATCH carries `x-kubernetes-group-version-kind` and a `fieldValidation`
 * query parameter, which makes `create -f`/`apply`/`edit` send fieldValidation=Strict and leave
 * validation to the server instead of validating client-side.
 */
import type { ServedResource } from './served.ts';

type Json = Record<string, unknown>;

const SCHEMA_REF = '#/components/schemas/';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

function ref(name: string): Json {
  return { $ref: `${SCHEMA_REF}${name}` };
}

function queryParam(name: string, description: string, type: 'string' | 'boolean' | 'integer' = 'string'): Json {
  return { name, in: 'query', description, schema: { type, uniqueItems: true } };
}

const DRY_RUN = queryParam('dryRun', 'When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed');
const FIELD_MANAGER = queryParam('fieldManager', 'fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.');
const FIELD_VALIDATION = queryParam('fieldValidation', 'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.');
const FORCE = queryParam('force', 'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.', 'boolean');
const PRETTY = queryParam('pretty', "If 'true', then the output is pretty printed. Defaults to 'false' unless the user explicitly requests to not pretty print it (i.e. pretty=false).");
const LIST_PARAMS = [
  queryParam('allowWatchBookmarks', 'allowWatchBookmarks requests watch events with type "BOOKMARK".', 'boolean'),
  queryParam('continue', 'The continue option should be set when retrieving more results from the server.'),
  queryParam('fieldSelector', 'A selector to restrict the list of returned objects by their fields. Defaults to everything.'),
  queryParam('labelSelector', 'A selector to restrict the list of returned objects by their labels. Defaults to everything.'),
  queryParam('limit', 'limit is a maximum number of responses to return for a list call.', 'integer'),
  queryParam('resourceVersion', 'resourceVersion sets a constraint on what resource versions a request may be served from.'),
  queryParam('timeoutSeconds', 'Timeout for the list/watch call.', 'integer'),
  queryParam('watch', 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.', 'boolean'),
];

function pathParam(name: string, description: string): Json {
  return { name, in: 'path', description, required: true, schema: { type: 'string', uniqueItems: true } };
}

const NAMESPACE = pathParam('namespace', 'object name and auth scope, such as for teams and projects');

function jsonBody(schema: string): Json {
  return { content: { 'application/json': { schema: ref(schema) }, 'application/yaml': { schema: ref(schema) } } };
}

function responses(schema: string, codes: readonly string[]): Json {
  const text: Record<string, string> = { '200': 'OK', '201': 'Created', '202': 'Accepted' };
  return Object.fromEntries(codes.map((c) => [c, { description: text[c] ?? c, ...jsonBody(schema) }]));
}

/** "CoreV1", "AppsV1", "RbacAuthorizationV1", "StableExampleComV1": the operationId infix. */
export function operationInfix(group: string, version: string): string {
  const words = group === '' ? ['core'] : group.replace(/\.k8s\.io$/, '').split(/[.-]/);
  const cap = (w: string) => (w ? w[0]!.toUpperCase() + w.slice(1) : w);
  return `${words.map(cap).join('')}${cap(version)}`;
}

interface Gvk {
  group: string;
  version: string;
  kind: string;
}

function op(verb: string, id: string, description: string, action: string, gvk: Gvk, extra: Json, tag: string): Json {
  return { tags: [tag], description, operationId: `${verb}${id}`, ...extra, 'x-kubernetes-action': action, 'x-kubernetes-group-version-kind': gvk };
}

/** The path items of one resource (collection, item, and subresources). */
export function resourcePaths(group: string, version: string, res: ServedResource): Record<string, Json> {
  const base = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
  const infix = operationInfix(group, version);
  // Upstream tags: core_v1, apps_v1, rbacAuthorization_v1.
  const groupWord = infix.slice(0, infix.length - version.length);
  const tag = `${groupWord[0]!.toLowerCase()}${groupWord.slice(1)}_${version}`;
  const gvk: Gvk = { group, version, kind: res.kind };
  const scoped = res.namespaced ? `Namespaced${res.kind}` : res.kind;
  const collection = res.namespaced ? `${base}/namespaces/{namespace}/${res.resource}` : `${base}/${res.resource}`;
  const item = `${collection}/{name}`;
  const scope = res.namespaced ? [NAMESPACE] : [];
  const name = pathParam('name', `name of the ${res.kind}`);
  const list = `${res.schema}List`;
  const patchBody = {
    requestBody: {
      content: Object.fromEntries(
        // kubectl picks its client-side apply patch type from this list: a custom resource must not
        // offer strategic merge patch, which the API rejects for it (415) as apiserver does.
        ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', ...(res.custom ? [] : ['application/strategic-merge-patch+json'])].map((t) => [
          t,
          { schema: ref(`${META}.Patch`) },
        ]),
      ),
      required: true,
    },
  };
  const paths: Record<string, Json> = {};
  paths[collection] = {
    get: op('list', `${infix}${scoped}`, `list or watch objects of kind ${res.kind}`, 'list', gvk, { parameters: LIST_PARAMS, responses: responses(list, ['200']) }, tag),
    post: op('create', `${infix}${scoped}`, `create a ${res.kind}`, 'post', gvk, { parameters: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION], requestBody: { ...jsonBody(res.schema), required: true }, responses: responses(res.schema, ['200', '201', '202']) }, tag),
    delete: op('deletecollection', `${infix}${scoped}`, `delete collection of ${res.kind}`, 'deletecollection', gvk, { parameters: [...LIST_PARAMS, DRY_RUN], requestBody: jsonBody(`${META}.DeleteOptions`), responses: responses(`${META}.Status`, ['200']) }, tag),
    parameters: [...scope, PRETTY],
  };
  paths[item] = {
    get: op('read', `${infix}${scoped}`, `read the specified ${res.kind}`, 'get', gvk, { responses: responses(res.schema, ['200']) }, tag),
    put: op('replace', `${infix}${scoped}`, `replace the specified ${res.kind}`, 'put', gvk, { parameters: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION], requestBody: { ...jsonBody(res.schema), required: true }, responses: responses(res.schema, ['200', '201']) }, tag),
    patch: op('patch', `${infix}${scoped}`, `partially update the specified ${res.kind}`, 'patch', gvk, { parameters: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION, FORCE], ...patchBody, responses: responses(res.schema, ['200', '201']) }, tag),
    delete: op('delete', `${infix}${scoped}`, `delete a ${res.kind}`, 'delete', gvk, { parameters: [DRY_RUN], requestBody: jsonBody(`${META}.DeleteOptions`), responses: responses(`${META}.Status`, ['200', '202']) }, tag),
    parameters: [name, ...scope, PRETTY],
  };
  if (res.namespaced)
    paths[`${base}/${res.resource}`] = {
      get: op('list', `${infix}${res.kind}ForAllNamespaces`, `list or watch objects of kind ${res.kind}`, 'list', gvk, { responses: responses(list, ['200']) }, tag),
      parameters: [...LIST_PARAMS, PRETTY],
    };
  for (const sub of res.subresources ?? []) {
    const subPath = `${item}/${sub}`;
    const params = [pathParam('name', `name of the ${sub === 'scale' ? 'Scale' : res.kind}`), ...scope, PRETTY];
    if (sub === 'status' || sub === 'approval') {
      // CSR approval is shaped like status: the parent kind, read/replace/patch.
      const word = sub === 'status' ? 'Status' : 'Approval';
      const id = `${infix}${scoped}${word}`;
      paths[subPath] = {
        get: op('read', id, `read ${sub} of the specified ${res.kind}`, 'get', gvk, { responses: responses(res.schema, ['200']) }, tag),
        put: op('replace', id, `replace ${sub} of the specified ${res.kind}`, 'put', gvk, { parameters: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION], requestBody: { ...jsonBody(res.schema), required: true }, responses: responses(res.schema, ['200', '201']) }, tag),
        patch: op('patch', id, `partially update ${sub} of the specified ${res.kind}`, 'patch', gvk, { parameters: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION, FORCE], ...patchBody, responses: responses(res.schema, ['200', '201']) }, tag),
        parameters: params,
      };
    } else if (sub === 'scale') {
      const scale: Gvk = { group: 'autoscaling', version: 'v1', kind: 'Scale' };
      const schema = 'io.k8s.api.autoscaling.v1.Scale';
      const id = `${infix}${scoped}Scale`;
      paths[subPath] = {
        get: op('read', id, `read scale of the specified ${res.kind}`, 'get', scale, { responses: responses(schema, ['200']) }, tag),
        put: op('replace', id, `replace scale of the specified ${res.kind}`, 'put', scale, { parameters: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION], requestBody: { ...jsonBody(schema), required: true }, responses: responses(schema, ['200', '201']) }, tag),
        patch: op('patch', id, `partially update scale of the specified ${res.kind}`, 'patch', scale, { parameters: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION, FORCE], ...patchBody, responses: responses(schema, ['200', '201']) }, tag),
        parameters: params,
      };
    } else if (sub === 'finalize') {
      paths[subPath] = {
        put: op('replace', `${infix}${scoped}Finalize`, `replace finalize of the specified ${res.kind}`, 'put', gvk, { parameters: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION], requestBody: { ...jsonBody(res.schema), required: true }, responses: responses(res.schema, ['200', '201']) }, tag),
        parameters: params,
      };
    } else {
      const target = sub === 'eviction' ? { gvk: { group: 'policy', version: 'v1', kind: 'Eviction' }, schema: 'io.k8s.api.policy.v1.Eviction' } : { gvk: { group: '', version: 'v1', kind: 'Binding' }, schema: 'io.k8s.api.core.v1.Binding' };
      const id = `${infix}${scoped}${sub === 'eviction' ? 'Eviction' : 'Binding'}`;
      paths[subPath] = {
        post: op('create', id, `create ${sub} of a ${res.kind}`, 'post', target.gvk, { parameters: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION], requestBody: { ...jsonBody(target.schema), required: true }, responses: responses(target.schema, ['200', '201', '202']) }, tag),
        parameters: params,
      };
    }
  }
  return paths;
}

/** Schema names the paths themselves reference besides the kind and its list. */
export function pathSchemaNames(res: ServedResource): string[] {
  const names = [`${META}.DeleteOptions`, `${META}.Status`, `${META}.Patch`];
  for (const sub of res.subresources ?? []) {
    if (sub === 'scale') names.push('io.k8s.api.autoscaling.v1.Scale');
    if (sub === 'eviction') names.push('io.k8s.api.policy.v1.Eviction');
    if (sub === 'binding') names.push('io.k8s.api.core.v1.Binding');
  }
  return names;
}
