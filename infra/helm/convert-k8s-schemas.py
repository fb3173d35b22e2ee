#!/usr/bin/env python3
"""Converts schemas so kubeconform can check manifests offline (used by infra/install-k8s-tools.sh).

  convert-k8s-schemas.py wheel WHEEL PREFIX DST   Kubernetes schemas from the kubernetes-validate wheel
  convert-k8s-schemas.py crds DST CRD.yaml...     JSON Schemas from CustomResourceDefinitions (needs PyYAML)

The wheel's schemas carry an https `$id` and absolute `$ref`s (`/api/_definitions.json#/...`):
the schema compiler then looks for kubernetes.io over the network, and kubeconform reports
that as "could not find schema". Dropping `$id` and making the refs relative lets it resolve
`_definitions.json` next to each file.

A CRD's `openAPIV3Schema` allows unknown fields unless told otherwise; here every object with
declared properties (and no `additionalProperties` or `x-kubernetes-preserve-unknown-fields`
of its own) is closed, so a misspelt field anywhere in a ScaledObject is an error, like
`kubeconform -strict` does for built-in kinds. Output: DST/<group>/<kind>_<version>.json.
"""
import json
import pathlib
import sys
import zipfile

ABSOLUTE_DEFINITIONS = '/api/_definitions.json'


def make_standalone(node):
    if isinstance(node, dict):
        node.pop('$id', None)
        ref = node.get('$ref')
        if isinstance(ref, str) and ref.startswith(ABSOLUTE_DEFINITIONS):
            node['$ref'] = ref[len('/api/'):]
        for value in node.values():
            make_standalone(value)
    elif isinstance(node, list):
        for value in node:
            make_standalone(value)


def close_objects(node):
    if isinstance(node, dict):
        if ('properties' in node and 'additionalProperties' not in node
                and not node.get('x-kubernetes-preserve-unknown-fields')):
            node['additionalProperties'] = False
        for value in node.values():
            close_objects(value)
    elif isinstance(node, list):
        for value in node:
            close_objects(value)


def from_wheel(wheel, prefix, dst):
    dst = pathlib.Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    count = 0
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if not (name.startswith(prefix) and name.endswith('.json')):
                continue
            schema = json.loads(archive.read(name))
            make_standalone(schema)
            (dst / pathlib.PurePosixPath(name).name).write_text(json.dumps(schema))
            count += 1
    if count == 0:
        sys.exit(f'no schemas under {prefix} in {wheel}')


def from_crds(dst, crd_files):
    import yaml  # PyYAML: only this mode needs it

    for crd_file in crd_files:
        for crd in yaml.safe_load_all(pathlib.Path(crd_file).read_text()):
            if not crd or crd.get('kind') != 'CustomResourceDefinition':
                continue
            group, kind = crd['spec']['group'], crd['spec']['names']['kind']
            for version in crd['spec']['versions']:
                schema = version['schema']['openAPIV3Schema']
                close_objects(schema)
                out = pathlib.Path(dst) / group / f"{kind.lower()}_{version['name']}.json"
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(json.dumps(schema))


if __name__ == '__main__':
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == 'wheel':
        from_wheel(*args)
    elif mode == 'crds':
        from_crds(args[0], args[1:])
    else:
        sys.exit(f'unknown mode {mode}')
