"""`emqx-mock coverage`: which of EMQX's operations the fake serves, door by door.

* EMQX 5 (`v5`): every operation of the 5.8.1 CE and EE specs (the committed generated
  schemas' index), by tag, with totals per edition;
* EMQX 4.4 (`v4`): every operation EMQX 4.4.19 declares with `-rest_api` (the committed
  `flavours/v4/declared.json`, derived by `restapigen`), by module, with its total; what the
  door serves beyond them is named with the reason;
* EMQX Cloud: `cloud-v4` is the v4 operations at `/api` (no node `/status`); a `cloud-v5`
  dedicated deployment is the whole v5 door; a serverless one the operations its documents list.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from .flavours import v4, v5
from .flavours.cloud import SERVERLESS_OPERATIONS, CloudV4, ServerlessV5
from .flavours.v4.api import Declaration
from .http.schemas import generated_index
from .state.broker import EDITIONS, Broker, BrokerConfig

#: What the v4 door serves that no `-rest_api` declares, and why it is there.
V4_UNDECLARED = {
    "GET /": "minirest's route listing",
    **{f"{method} /status": "emqx_mgmt_http's /status handler, beside minirest" for method in ("GET", "POST", "PUT", "DELETE")},
}


def declared() -> dict[str, list[Declaration]]:
    """EMQX 4.4.19's `-rest_api` declarations by module (no `descr`: the file keeps facts only)."""
    document = json.loads((resources.files(v4.__name__) / "declared.json").read_text())
    return {module: [Declaration(op["name"], op["method"], op["path"], "") for op in ops] for module, ops in document["modules"].items()}


def coverage_report() -> dict[str, Any]:
    """The report: the v5 specs' operations (`tags`, `served_not_in_spec`, `totals`), EMQX
    4.4.19's (`v4`) and the Cloud doors' totals (`cloud`)."""
    served = v5.served_operations()
    tags: dict[str, list[dict[str, Any]]] = {}
    totals = {edition: {"served": 0, "total": 0} for edition in EDITIONS}
    in_spec: set[str] = set()
    for tag, group in sorted(generated_index().items()):
        rows = tags[tag] = []
        for key, entry in group["operations"].items():
            in_spec.add(key)
            row: dict[str, Any] = {"operation": key, "served": key in served}
            if "x-edition" in entry:
                row["edition"] = entry["x-edition"]
            rows.append(row)
            for edition in (entry["x-edition"],) if "x-edition" in entry else EDITIONS:
                totals[edition]["total"] += 1
                totals[edition]["served"] += key in served
    report = {"tags": tags, "served_not_in_spec": sorted(served - in_spec), "totals": totals}
    return {**report, "v4": _v4_report(v4.served_operations()), "cloud": _cloud_report(totals)}


def _v4_report(served: frozenset[str]) -> dict[str, Any]:
    modules = {
        module: [{"operation": declaration.key, "name": declaration.name, "served": declaration.key in served} for declaration in declarations]
        for module, declarations in declared().items()
    }
    rows = [row for module_rows in modules.values() for row in module_rows]
    undeclared = sorted(served - {row["operation"] for row in rows})
    return {
        "modules": modules,
        "served_not_declared": {key: V4_UNDECLARED.get(key, "") for key in undeclared},
        "totals": {"served": sum(row["served"] for row in rows), "total": len(rows)},
    }


def _cloud_report(v5_totals: dict[str, dict[str, int]]) -> dict[str, Any]:
    broker = Broker(BrokerConfig())
    cloud_v4 = _v4_report(frozenset(route.key for route in CloudV4(broker).routes))["totals"]
    serverless = {route.key for route in ServerlessV5(broker).routes}
    return {
        "cloud-v4": cloud_v4,
        "cloud-v5": {
            "serverless": {"served": len(serverless & SERVERLESS_OPERATIONS), "total": len(SERVERLESS_OPERATIONS)},
            "dedicated": v5_totals["ee"],
        },
    }


def print_coverage(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(report, indent=2))
        return
    print("Operations of the EMQX 5.8.1 OpenAPI specs ([x] served; (ce)/(ee): that edition only)")
    for tag, rows in report["tags"].items():
        print(f"\n{tag}  {sum(bool(row['served']) for row in rows)}/{len(rows)}")
        for row in rows:
            edition = f"  ({row['edition']})" if "edition" in row else ""
            print(f"  [{'x' if row['served'] else ' '}] {row['operation']}{edition}")
    print(f"\nServed, not in the 5.8.1 spec: {', '.join(report['served_not_in_spec']) or 'none'}")
    totals = report["totals"].items()
    print("Total: " + ", ".join(f"{edition.upper()} {count['served']}/{count['total']} served" for edition, count in totals))
    v4_report = report["v4"]
    print("\nOperations EMQX 4.4.19 declares (-rest_api), by module ([x] served at /api/v4)")
    for module, rows in v4_report["modules"].items():
        print(f"\n{module}  {sum(bool(row['served']) for row in rows)}/{len(rows)}")
        for row in rows:
            print(f"  [{'x' if row['served'] else ' '}] {row['operation']}  ({row['name']})")
    extra = v4_report["served_not_declared"]
    print("\nServed, not declared in 4.4.19: " + ("; ".join(f"{key} ({why})" for key, why in extra.items()) or "none"))
    count = v4_report["totals"]
    print(f"Total: 4.4.19 {count['served']}/{count['total']} served")
    cloud = report["cloud"]
    v4_cloud, serverless, dedicated = cloud["cloud-v4"], cloud["cloud-v5"]["serverless"], cloud["cloud-v5"]["dedicated"]
    print(
        f"\nEMQX Cloud: cloud-v4 {v4_cloud['served']}/{v4_cloud['total']} served (the 4.4.19 operations at /api); "
        f"cloud-v5 serverless {serverless['served']}/{serverless['total']} (the operations its documents list); "
        f"cloud-v5 dedicated {dedicated['served']}/{dedicated['total']} (the EE spec, as v5)"
    )
