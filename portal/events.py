from audit.registry import register

TENANT_CREATED = register("tenant.created", "A tenant (Mandant) was created.")
TENANT_SWITCHED = register("tenant.switched", "A user switched their active tenant.")
MEMBERSHIP_CREATED = register("membership.created", "A user was given a membership with roles.")
MEMBERSHIP_ROLES_CHANGED = register("membership.roles_changed", "A membership's roles were changed.")
MEMBERSHIP_DEACTIVATED = register("membership.deactivated", "A membership was deactivated.")
USER_CREATED = register("user.created", "A login account was created.")
USER_LOGGED_IN = register("user.logged_in", "A user logged in.")
USER_LOGGED_OUT = register("user.logged_out", "A user logged out.")
USER_LOGIN_FAILED = register("user.login_failed", "A login attempt failed.")
USER_LOCKED_OUT = register("user.locked_out", "Sign-in was locked after repeated failures (user name or address).")
USER_UNLOCKED = register("user.unlocked", "An administrator lifted a sign-in lock.")
API_TOKEN_CREATED = register("api_token.created", "An API token was issued.")
API_TOKEN_REVOKED = register("api_token.revoked", "An API token was revoked.")
API_TOKEN_USED = register("api_token.used", "An API token was used for the first time on a day (UTC).")
API_TOKEN_REFUSED = register("api_token.refused", "An expired or revoked API token was presented.")
SECOND_FACTOR_ENROLLED = register("second_factor.enrolled", "A user set up a second factor (an authenticator app).")
SECOND_FACTOR_REFUSED = register("second_factor.refused", "A second-factor code was refused (set-up or sign-in).")
SECOND_FACTOR_RESET = register("second_factor.reset", "A user's second factor was removed by an administrator or "
                                                      "the ISB (to be set up again).")
SECOND_FACTOR_ROTATED = register("second_factor.rotated", "An authenticator's stored secret was re-encrypted under the "
                                                          "newest field key (manage.py rotate_secrets).")
RECOVERY_CODE_USED = register("recovery_code.used", "A recovery code was used to sign in (it is used up).")
RECOVERY_CODES_GENERATED = register("recovery_codes.generated", "New recovery codes were issued; the earlier ones "
                                                                "stopped working.")
