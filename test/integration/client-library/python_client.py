"""Drives a real edgeos server with the official Python client (Debian's python3-kubernetes).

Run by python-client.test.ts as `/usr/bin/python3 python_client.py <kubeconfig> <work dir>`.
Prints one JSON object per line, {"check": <name>, ...what it saw}; the test asserts on them.
Any failure raises, so the process exits non-zero with a traceback.
"""
import json
import os
import sys
import time

from kubernetes import client, config, dynamic, watch
from kubernetes.client.rest import ApiException
from kubernetes.dynamic.exceptions import DynamicApiError

kubeconfig, work_dir = sys.argv[1], sys.argv[2]
config.load_kube_config(config_file=kubeconfig)
api = client.ApiClient()
core = client.CoreV1Api(api)
apps = client.AppsV1Api(api)
ext = client.ApiextensionsV1Api(api)
custom = client.CustomObjectsApi(api)
NS = "default"


def report(check, **seen):
    print(json.dumps({"check": check, **seen}), flush=True)


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


# Typed CRUD on a ConfigMap: create, read, replace, list, delete.
cm = core.create_namespaced_config_map(NS, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py-cm"), data={"a": "1"}))
read = core.read_namespaced_config_map("py-cm", NS)
read.data["b"] = "2"
replaced = core.replace_namespaced_config_map("py-cm", NS, read)
names = [c.metadata.name for c in core.list_namespaced_config_map(NS).items]
core.delete_namespaced_config_map("py-cm", NS)
try:
    core.read_namespaced_config_map("py-cm", NS)
    gone = False
except ApiException as e:
    gone = e.status == 404
report("typed-crud", uid=bool(cm.metadata.uid), data=replaced.data, listed="py-cm" in names, deleted=gone)

# A Deployment: the three patch types, then scale through the scale subresource.
dep = client.V1Deployment(
    metadata=client.V1ObjectMeta(name="py-web", labels={"app": "py-web"}),
    spec=client.V1DeploymentSpec(
        replicas=1,
        selector=client.V1LabelSelector(match_labels={"app": "py-web"}),
        template=client.V1PodTemplateSpec(
            metadata=client.V1ObjectMeta(labels={"app": "py-web"}),
            spec=client.V1PodSpec(containers=[client.V1Container(name="web", image="nginx:1.25", ports=[client.V1ContainerPort(container_port=80)])]),
        ),
    ),
)
apps.create_namespaced_deployment(NS, dep)
# A dict body: the typed API sends application/strategic-merge-patch+json, merged by container name.
smp = apps.patch_namespaced_deployment("py-web", NS, {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.26"}]}}}})
# A list body: application/json-patch+json.
jp = apps.patch_namespaced_deployment("py-web", NS, [{"op": "add", "path": "/metadata/labels/tier", "value": "front"}])
dyn = dynamic.DynamicClient(api, cache_file=os.path.join(work_dir, "discovery.json"))
deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
mp = deployments.patch(name="py-web", namespace=NS, body={"metadata": {"annotations": {"merged": "yes"}}}, content_type="application/merge-patch+json")
containers = smp.spec.template.spec.containers
report("patch", strategic=[(c.name, c.image, c.ports[0].container_port) for c in containers], json_patch=jp.metadata.labels, merge=mp.metadata.annotations["merged"])

scaled = apps.patch_namespaced_deployment_scale("py-web", NS, {"spec": {"replicas": 3}})
scale = apps.read_namespaced_deployment_scale("py-web", NS)
scale.spec.replicas = 2
replaced_scale = apps.replace_namespaced_deployment_scale("py-web", NS, scale)
report("scale", patched=scaled.spec.replicas, replaced=replaced_scale.spec.replicas, deployment=apps.read_namespaced_deployment("py-web", NS).spec.replicas)

# Watch: the client sends watch=True (Python's spelling) and must get events, not a List.
rv = core.list_namespaced_config_map(NS).metadata.resource_version
core.create_namespaced_config_map(NS, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py-watched"), data={"v": "1"}))
core.patch_namespaced_config_map("py-watched", NS, {"data": {"v": "2"}})
core.delete_namespaced_config_map("py-watched", NS)
events = []
w = watch.Watch()
for ev in w.stream(core.list_namespaced_config_map, NS, resource_version=rv, timeout_seconds=3, allow_watch_bookmarks=True):
    if ev["type"] != "BOOKMARK":
        events.append([ev["type"], ev["object"].metadata.name, ev["object"].data])
    if len(events) == 3:
        w.stop()
report("watch", events=events)

# A CustomResourceDefinition and its objects through CustomObjectsApi (merge patch).
crd = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "gadgets.py.example.com"},
    "spec": {
        "group": "py.example.com",
        "scope": "Namespaced",
        "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
        "versions": [{
            "name": "v1", "served": True, "storage": True,
            "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object", "properties": {"size": {"type": "integer"}, "color": {"type": "string"}}}}}},
        }],
    },
}
ext.create_custom_resource_definition(crd)
deadline = time.time() + 20
while True:
    conds = ext.read_custom_resource_definition("gadgets.py.example.com").status.conditions or []
    if any(c.type == "Established" and c.status == "True" for c in conds) or time.time() > deadline:
        break
    time.sleep(0.2)
gadget = {"apiVersion": "py.example.com/v1", "kind": "Gadget", "metadata": {"name": "g1"}, "spec": {"size": 1, "color": "red"}}
custom.create_namespaced_custom_object("py.example.com", "v1", NS, "gadgets", gadget)
patched = custom.patch_namespaced_custom_object("py.example.com", "v1", NS, "gadgets", "g1", {"spec": {"size": 2}})
listed = custom.list_namespaced_custom_object("py.example.com", "v1", NS, "gadgets")
custom.delete_namespaced_custom_object("py.example.com", "v1", NS, "gadgets", "g1")
report("custom-objects", spec=patched["spec"], listed=[i["metadata"]["name"] for i in listed["items"]])

# The dynamic client: discovery, then create, get, server-side apply with force=True, delete.
gadgets = dyn.resources.get(api_version="py.example.com/v1", kind="Gadget")
gadgets.create(body={**gadget, "metadata": {"name": "g2"}}, namespace=NS)
got = gadgets.get(name="g2", namespace=NS)
configmaps = dyn.resources.get(api_version="v1", kind="ConfigMap")
applied = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "py-applied"}, "data": {"k": "one"}}


def apply(data, manager, **kw):
    # apply-patch+yaml bodies go out only as text in this client version; JSON is YAML.
    body = json.dumps({**applied, "data": data})
    return configmaps.server_side_apply(body=body, name="py-applied", namespace=NS, field_manager=manager, **kw)


apply({"k": "one"}, "py-first")
try:
    apply({"k": "two"}, "py-second")
    conflict = None
except DynamicApiError as e:
    conflict = e.status
# force_conflicts=True is sent as force=True.
forced = apply({"k": "two"}, "py-second", force_conflicts=True)
gadgets.delete(name="g2", namespace=NS)
configmaps.delete(name="py-applied", namespace=NS)
report("dynamic", gadget=got.spec.color, conflict=conflict, forced=forced.data.k)

# Typed decoding: a body with the wrong JSON types is a 400 naming the field; nothing is stored.
bad = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "py-bad"}, "spec": {"containers": [1, 2]}}
try:
    core.create_namespaced_pod(NS, bad)
    status, message = 201, ""
except ApiException as e:
    status, message = e.status, json.loads(e.body)["message"]
try:
    core.read_namespaced_pod("py-bad", NS)
    stored = True
except ApiException:
    stored = False
report("typed-decoding", status=status, message=message, stored=stored)

apps.delete_namespaced_deployment("py-web", NS)
ext.delete_custom_resource_definition("gadgets.py.example.com")
report("done")
