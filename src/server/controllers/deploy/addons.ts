// What the deploy controller writes besides the manifests themselves: the Addon kind each manifest
// file is tracked by (K3s's addons.k3s.cattle.io, here addons.edgeos.io: `kubectl get addons -n
// kube-system`, `kubectl describe addon <name>` shows its Events), and the manifests edgeos ships
// in the folder, rewritten at every start as K3s rewrites its packaged components.
import { LOCAL_PATH_PROVISIONER, LOCAL_PATH_STORAGE_CLASS } from '../../../common/local-volumes.ts';
import type { KubeObject, ResourceRef } from '../types.ts';

export const ADDON_NAMESPACE = 'kube-system';
export const addons: ResourceRef = { group: 'edgeos.io', version: 'v1', resource: 'addons' };

/** An object a manifest applied: what removal (and the prune opt-in) needs to find it again. */
export interface AppliedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  /** It carried PRUNE_ANNOTATION: removed from the folder, it is deleted. */
  readonly prune: boolean;
}

export interface Addon extends KubeObject {
  spec?: { source?: string; checksum?: string };
  status?: { objects?: AppliedObject[] };
}

/**
 * The documented opt-in (docs/storage.md): an object carrying this annotation with "true" is
 * deleted when its file is removed from the folder or the object from its file. Without it
 * objects stay, as K3s leaves them.
 */
export const PRUNE_ANNOTATION = 'edgeos.io/delete-with-manifest';

export const addonCrd: KubeObject = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'addons.edgeos.io' },
  spec: {
    group: 'edgeos.io',
    names: { kind: 'Addon', listKind: 'AddonList', plural: 'addons', singular: 'addon' },
    scope: 'Namespaced',
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            description: 'A manifest file of the server\'s manifests folder, applied by edgeos (docs/storage.md).',
            properties: {
              spec: {
                type: 'object',
                properties: {
                  source: { type: 'string', description: 'The file.' },
                  checksum: { type: 'string', description: 'SHA-256 of the content last applied.' },
                },
              },
              status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            },
          },
        },
        additionalPrinterColumns: [
          { name: 'Source', type: 'string', jsonPath: '.spec.source' },
          { name: 'Checksum', type: 'string', jsonPath: '.spec.checksum' },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
        ],
      },
    ],
  },
};

/** The manifests edgeos writes into the folder at every start, unless `<name>.skip` is there. */
export const BUNDLED_MANIFESTS: Readonly<Record<string, string>> = {
  'local-storage.yaml': `# Written by edgeos at every start: the default StorageClass of the built-in local volumes
# (docs/storage.md). Edits here are overwritten; to keep your own, create local-storage.yaml.skip
# beside this file and apply your StorageClass yourself.
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: ${LOCAL_PATH_STORAGE_CLASS}
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: ${LOCAL_PATH_PROVISIONER}
reclaimPolicy: Delete
volumeBindingMode: WaitForFirstConsumer
`,
};
