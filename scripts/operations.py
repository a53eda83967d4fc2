#!/usr/bin/env python3
"""Writes tests/data/operations.json: every operation of the botocore models of `apigateway`
and `apigatewayv2` (name, HTTP method, request URI), for the test that sends each one as a user
would and counts those Gatehouse knows (tests/it/operations.rs).

    scripts/operations.py [path/to/aws-models]   (default: ../shared/aws-models)
"""
import json
import os
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
models = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "..", "shared", "aws-models")
out = {}
for service in ("apigateway", "apigatewayv2"):
    with open(os.path.join(models, f"{service}.service-2.json")) as f:
        model = json.load(f)
    out[service] = sorted(
        [name, op["http"]["method"], op["http"]["requestUri"]]
        for name, op in model["operations"].items()
    )
path = os.path.join(root, "tests", "data", "operations.json")
with open(path, "w") as f:
    # One operation a line: diffs of a new model show the operations it added.
    services = []
    for service, ops in out.items():
        lines = ",\n".join("    " + json.dumps(op) for op in ops)
        services.append(f'  "{service}": [\n{lines}\n  ]')
    f.write("{\n" + ",\n".join(services) + "\n}\n")
print(f"{path}: " + ", ".join(f"{s} {len(o)}" for s, o in out.items()))
