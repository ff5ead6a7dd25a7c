/** A Kubernetes object or fragment as plain JSON. */
export type KubeJson = Record<string, unknown>;
