/** Trimmed k8s.io/api apps/v1, batch/v1 and autoscaling/v1 generated.proto (see meta.ts for the options). */
export const appsV1Proto = `
syntax = "proto2";
package apps;
message Deployment {
  optional meta.ObjectMeta metadata = 1;
  optional DeploymentSpec spec = 2;
  optional DeploymentStatus status = 3;
}
message DeploymentSpec {
  optional int32 replicas = 1 [(keep) = true];
  optional meta.LabelSelector selector = 2;
  optional core.PodTemplateSpec template = 3;
  optional DeploymentStrategy strategy = 4;
  optional int32 minReadySeconds = 5;
  optional int32 revisionHistoryLimit = 6 [(keep) = true];
  optional bool paused = 7;
  optional int32 progressDeadlineSeconds = 9 [(keep) = true];
}
message DeploymentStrategy {
  optional string type = 1;
  optional RollingUpdateDeployment rollingUpdate = 2;
}
message RollingUpdateDeployment {
  optional meta.IntOrString maxUnavailable = 1 [(keep) = true];
  optional meta.IntOrString maxSurge = 2 [(keep) = true];
}
message DeploymentStatus {
  optional int64 observedGeneration = 1;
  optional int32 replicas = 2;
  optional int32 updatedReplicas = 3;
  optional int32 availableReplicas = 4;
  optional int32 unavailableReplicas = 5;
  optional int32 readyReplicas = 7;
  optional int32 collisionCount = 8 [(keep) = true];
}
`;

export const batchV1Proto = `
syntax = "proto2";
package batch;
message Job {
  optional meta.ObjectMeta metadata = 1;
  optional JobSpec spec = 2;
  optional JobStatus status = 3;
}
message JobSpec {
  optional int32 parallelism = 1 [(keep) = true];
  optional int32 completions = 2 [(keep) = true];
  optional int64 activeDeadlineSeconds = 3 [(keep) = true];
  optional meta.LabelSelector selector = 4;
  optional bool manualSelector = 5 [(keep) = true];
  optional core.PodTemplateSpec template = 6;
  optional int32 backoffLimit = 7 [(keep) = true];
  optional int32 ttlSecondsAfterFinished = 8 [(keep) = true];
  optional string completionMode = 9 [(keep) = true];
  optional bool suspend = 10 [(keep) = true];
  optional int32 backoffLimitPerIndex = 12 [(keep) = true];
  optional int32 maxFailedIndexes = 13 [(keep) = true];
  optional string podReplacementPolicy = 14 [(keep) = true];
  optional string managedBy = 15 [(keep) = true];
}
message JobStatus {
  optional meta.Time startTime = 2;
  optional meta.Time completionTime = 3;
  optional int32 active = 4;
  optional int32 succeeded = 5;
  optional int32 failed = 6;
  optional int32 ready = 9 [(keep) = true];
}
message CronJob {
  optional meta.ObjectMeta metadata = 1;
  optional CronJobSpec spec = 2;
  optional CronJobStatus status = 3;
}
message CronJobSpec {
  optional string schedule = 1;
  optional int64 startingDeadlineSeconds = 2 [(keep) = true];
  optional string concurrencyPolicy = 3;
  optional bool suspend = 4 [(keep) = true];
  optional JobTemplateSpec jobTemplate = 5;
  optional int32 successfulJobsHistoryLimit = 6 [(keep) = true];
  optional int32 failedJobsHistoryLimit = 7 [(keep) = true];
  optional string timeZone = 8 [(keep) = true];
}
message JobTemplateSpec {
  optional meta.ObjectMeta metadata = 1;
  optional JobSpec spec = 2;
}
message CronJobStatus {
  repeated core.ObjectReference active = 1;
  optional meta.Time lastScheduleTime = 4;
  optional meta.Time lastSuccessfulTime = 5;
}
`;

export const autoscalingV1Proto = `
syntax = "proto2";
package autoscaling;
message HorizontalPodAutoscaler {
  optional meta.ObjectMeta metadata = 1;
  optional HorizontalPodAutoscalerSpec spec = 2;
  optional HorizontalPodAutoscalerStatus status = 3;
}
message HorizontalPodAutoscalerSpec {
  optional CrossVersionObjectReference scaleTargetRef = 1;
  optional int32 minReplicas = 2 [(keep) = true];
  optional int32 maxReplicas = 3 [(keep) = true];
  optional int32 targetCPUUtilizationPercentage = 4 [(keep) = true];
}
message CrossVersionObjectReference {
  optional string kind = 1;
  optional string name = 2;
  optional string apiVersion = 3;
}
message HorizontalPodAutoscalerStatus {
  optional int64 observedGeneration = 1 [(keep) = true];
  optional meta.Time lastScaleTime = 2;
  optional int32 currentReplicas = 3 [(keep) = true];
  optional int32 desiredReplicas = 4 [(keep) = true];
  optional int32 currentCPUUtilizationPercentage = 5 [(keep) = true];
}
`;
