"""The kinds of state the fake holds, each registered once in its module here (see
`state.registry`). Imported in the order a scenario loads them: a section may refer to the
ones before it (a client to its node, a token to its user)."""

from . import nodes, retained, bans, authentication, authorization, api_keys, apps, auth_mnesia, platform, dashboard, alarms, clients, metrics  # noqa: F401  # isort: skip
