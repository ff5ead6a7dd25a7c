/**
 * Labels and annotations the kubelet puts on sandboxes and containers (pkg/kubelet/types/labels.go
 * and kuberuntime/labels.go upstream), so tools that know the kubelet's (crictl, the tunnel) find
 * pods and containers the same way, and so a restarted agent can recognise what it created.
 */
export const podNameLabel = 'io.kubernetes.pod.name';
export const podNamespaceLabel = 'io.kubernetes.pod.namespace';
export const podUidLabel = 'io.kubernetes.pod.uid';
export const containerNameLabel = 'io.kubernetes.container.name';
/** edgeos: which list of the spec the container comes from ('init' or 'app'). */
export const containerTypeLabel = 'edgeos.io/container-type';

export const containerHashAnnotation = 'io.kubernetes.container.hash';
export const restartCountAnnotation = 'io.kubernetes.container.restartCount';
export const terminationMessagePathAnnotation = 'io.kubernetes.container.terminationMessagePath';
export const terminationMessagePolicyAnnotation = 'io.kubernetes.container.terminationMessagePolicy';
/** The preStop handler as JSON, so a pod that vanished from the cache can still be stopped gracefully. */
export const preStopAnnotation = 'io.kubernetes.container.preStopHandler';
export const gracePeriodAnnotation = 'io.kubernetes.pod.terminationGracePeriod';
/** edgeos: the image exactly as the spec named it (CRI may report a resolved reference instead). */
export const specImageAnnotation = 'edgeos.io/spec-image';
