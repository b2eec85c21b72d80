"""What the masking layer (common/masking.py) adds to a large audit result: the recogniser over a
container_audit-shaped result of 1000 containers x 45 findings. Run by hand from the checkout:
.venv/bin/python benchmarks/masking_layer_cost.py."""

import time

# measure puts the collection on the import path (tests/farm.py).
import measure  # noqa: F401  pylint: disable=unused-import
from ansible_collections.bulwark.hardening.plugins.module_utils.common.secrets import masker_for

findings = []
for c in range(1000):
    for r in range(45):
        findings.append({"rule": "5.%d" % r, "target": "shop-web-%04d" % c, "status": "fail", "severity": "high",
                         "title": "Ensure that the memory usage for containers is limited",
                         "evidence": "HostConfig.Memory=0 (no limit); image shop/web:1.%d" % c,
                         "fixed_by": ["containers_policy"], "left_open": None})
result = {"findings": findings, "summary": {"score": 50.0}}
m = masker_for([])
started = time.time()
masked = m.data(result)
print("findings %d, masking %.2f s" % (len(masked["findings"]), time.time() - started))
