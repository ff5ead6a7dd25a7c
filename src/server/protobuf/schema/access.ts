/**
 * Trimmed k8s.io/api generated.proto for rbac/v1, policy/v1, scheduling/v1, networking/v1 and
 * authentication/v1 (see meta.ts for the options).
 */
export const rbacV1Proto = `
syntax = "proto2";
package rbac;
message PolicyRule {
  repeated string verbs = 1;
  repeated string apiGroups = 2;
  repeated string resources = 3;
  repeated string resourceNames = 4;
  repeated string nonResourceURLs = 5;
}
message Role { optional meta.ObjectMeta metadata = 1; repeated PolicyRule rules = 2; }
message ClusterRole {
  optional meta.ObjectMeta metadata = 1;
  repeated PolicyRule rules = 2;
  optional AggregationRule aggregationRule = 3;
}
message AggregationRule { repeated meta.LabelSelector clusterRoleSelectors = 1; }
message Subject {
  optional string kind = 1;
  optional string apiGroup = 2;
  optional string name = 3;
  optional string namespace = 4;
}
message RoleRef { optional string apiGroup = 1; optional string kind = 2; optional string name = 3; }
message RoleBinding {
  optional meta.ObjectMeta metadata = 1;
  repeated Subject subjects = 2;
  optional RoleRef roleRef = 3;
}
message ClusterRoleBinding {
  optional meta.ObjectMeta metadata = 1;
  repeated Subject subjects = 2;
  optional RoleRef roleRef = 3;
}
`;

export const policyV1Proto = `
syntax = "proto2";
package policy;
message PodDisruptionBudget {
  optional meta.ObjectMeta metadata = 1;
  optional PodDisruptionBudgetSpec spec = 2;
  optional PodDisruptionBudgetStatus status = 3;
}
message PodDisruptionBudgetSpec {
  optional meta.IntOrString minAvailable = 1 [(keep) = true];
  optional meta.LabelSelector selector = 2;
  optional meta.IntOrString maxUnavailable = 3 [(keep) = true];
  optional string unhealthyPodEvictionPolicy = 4 [(keep) = true];
}
message PodDisruptionBudgetStatus {
  optional int64 observedGeneration = 1;
  map<string, meta.Time> disruptedPods = 2;
  optional int32 disruptionsAllowed = 3 [(keep) = true];
  optional int32 currentHealthy = 4 [(keep) = true];
  optional int32 desiredHealthy = 5 [(keep) = true];
  optional int32 expectedPods = 6 [(keep) = true];
  repeated meta.Condition conditions = 7;
}
message Eviction {
  optional meta.ObjectMeta metadata = 1;
  optional meta.DeleteOptions deleteOptions = 2;
}
`;

export const schedulingV1Proto = `
syntax = "proto2";
package scheduling;
message PriorityClass {
  optional meta.ObjectMeta metadata = 1;
  optional int32 value = 2 [(keep) = true];
  optional bool globalDefault = 3;
  optional string description = 4;
  optional string preemptionPolicy = 5 [(keep) = true];
}
`;

export const networkingV1Proto = `
syntax = "proto2";
package networking;
message Ingress {
  optional meta.ObjectMeta metadata = 1;
  optional IngressSpec spec = 2;
  optional IngressStatus status = 3;
}
message IngressSpec {
  optional IngressBackend defaultBackend = 1;
  repeated IngressTLS tls = 2;
  repeated IngressRule rules = 3;
  optional string ingressClassName = 4 [(keep) = true];
}
message IngressBackend {
  optional core.TypedLocalObjectReference resource = 3;
  optional IngressServiceBackend service = 4;
}
message IngressServiceBackend { optional string name = 1; optional ServiceBackendPort port = 2; }
message ServiceBackendPort { optional string name = 1; optional int32 number = 2; }
message IngressTLS { repeated string hosts = 1; optional string secretName = 2; }
message IngressRule {
  optional string host = 1;
  optional IngressRuleValue ingressRuleValue = 2 [(inline) = true];
}
message IngressRuleValue { optional HTTPIngressRuleValue http = 1; }
message HTTPIngressRuleValue { repeated HTTPIngressPath paths = 1; }
message HTTPIngressPath {
  optional string path = 1;
  optional IngressBackend backend = 2;
  optional string pathType = 3 [(keep) = true];
}
message IngressStatus { optional IngressLoadBalancerStatus loadBalancer = 1; }
message IngressLoadBalancerStatus { repeated IngressLoadBalancerIngress ingress = 1; }
message IngressLoadBalancerIngress { optional string ip = 1; optional string hostname = 2; }
`;

export const authenticationV1Proto = `
syntax = "proto2";
package authentication;
message TokenRequest {
  optional meta.ObjectMeta metadata = 1;
  optional TokenRequestSpec spec = 2;
  optional TokenRequestStatus status = 3;
}
message TokenRequestSpec {
  repeated string audiences = 1;
  optional int64 expirationSeconds = 4 [(keep) = true];
  optional BoundObjectReference boundObjectRef = 3;
}
message BoundObjectReference {
  optional string kind = 1;
  optional string apiVersion = 2;
  optional string name = 3;
  optional string uid = 4;
}
message TokenRequestStatus { optional string token = 1; optional meta.Time expirationTimestamp = 2; }
`;
