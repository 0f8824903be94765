from audit.registry import register

TENANT_CREATED = register("tenant.created", "A tenant (Mandant) was created.")
TENANT_SWITCHED = register("tenant.switched", "A user switched their active tenant.")
MEMBERSHIP_CREATED = register("membership.created", "A user was given a membership with roles.")
MEMBERSHIP_ROLES_CHANGED = register("membership.roles_changed", "A membership's roles were changed.")
MEMBERSHIP_DEACTIVATED = register("membership.deactivated", "A membership was deactivated.")
USER_LOGGED_IN = register("user.logged_in", "A user logged in.")
USER_LOGGED_OUT = register("user.logged_out", "A user logged out.")
USER_LOGIN_FAILED = register("user.login_failed", "A login attempt failed.")
API_TOKEN_CREATED = register("api_token.created", "An API token was issued.")
API_TOKEN_REVOKED = register("api_token.revoked", "An API token was revoked.")
API_TOKEN_USED = register("api_token.used", "An API token authenticated a request.")
API_TOKEN_REFUSED = register("api_token.refused", "An expired or revoked API token was presented.")
