import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';

/**
 * The authentication context classes Ferry names (`acr` in the ID token, `acr_values` in a
 * request): a password alone, or a password and a second factor.
 */
export const ACR = { password: 'urn:ferry:pwd', mfa: 'urn:ferry:mfa' } as const;

/** What a sign-in said about itself (`amr`, RFC 8176) as the class it reached. */
export const acrOf = (amr: readonly string[]): string => (amr.includes('mfa') ? ACR.mfa : ACR.password);

/**
 * Whether a sign-in for this request needs a second factor: Ferry's global policy
 * (`mfa.required`), the client's `require_mfa`, or the relying party asking for `urn:ferry:mfa`
 * in `acr_values` (taken as a requirement: a user without a factor enrols one).
 */
export function mfaRequired(globally: boolean, client: unknown, acrValues: unknown): boolean {
  if (globally || (client as { require_mfa?: boolean } | undefined)?.require_mfa === true) return true;
  return typeof acrValues === 'string' && acrValues.split(' ').includes(ACR.mfa);
}

/** The reason the login prompt gives when the session lacks the second factor the request needs. */
export const MFA_REASON = 'mfa_required';

/**
 * oidc-provider's interaction policy with one more check on the login prompt: a session signed in
 * with a password alone is sent back to the login prompt when the request needs a second factor
 * (step-up). Without a session the check is silent: `no_session` asks for the sign-in already.
 */
export function interactionPolicyWithMfa(globally: boolean) {
  const policy = interactionPolicy.base();
  const login = policy.get('login')!;
  login.checks.add(
    // login_required to prompt=none, as the login prompt's own checks answer (a check added later gets no error of its own).
    new interactionPolicy.Check(MFA_REASON, 'a second factor is required', 'login_required', (ctx: KoaContextWithOIDC) => {
      const { oidc } = ctx;
      if (!oidc.session?.accountId) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      if (!mfaRequired(globally, oidc.client, oidc.params?.acr_values)) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      return oidc.session.amr?.includes('mfa') ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT;
    }),
  );
  return policy;
}
