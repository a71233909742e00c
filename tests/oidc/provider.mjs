// A real OpenID provider (the certified oidc-provider package) for the portal's tests.
// Settings from the environment: PORT, ISSUER (its public address, by default
// http://127.0.0.1:PORT), CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, SIGNING_KEYS (a private JWK
// set the test made, so that it can sign tokens as this provider would), and ACCOUNTS_FILE, a
// JSON object of login name -> claims, read at every sign-in so that a test can change
// someone's groups between two sign-ins. Any password is accepted: the
// login form is devInteractions' (login name + password); consent is given at once.
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const { PORT, ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, SIGNING_KEYS, ACCOUNTS_FILE } = process.env;
const issuer = ISSUER || `http://127.0.0.1:${PORT}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uris: REDIRECT_URI.split(','),
    response_types: ['code'],
    grant_types: ['authorization_code'],
  }],
  jwks: JSON.parse(SIGNING_KEYS),
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: {
    openid: ['sub'], email: ['email', 'email_verified', 'xms_edov'], profile: ['name', 'locale'], groups: ['groups'],
  },
  conformIdTokenClaims: false, // the claims go into the ID token, as the portal reads them there
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    const claims = JSON.parse(readFileSync(ACCOUNTS_FILE, 'utf8'))[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
  async loadExistingGrant(ctx) { // a first-party client: no consent screen
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile groups');
    await grant.save();
    return grant;
  },
  cookies: { keys: ['portal-tests-only'] },
});
provider.listen(Number(PORT), '127.0.0.1', () => console.log(`listening on ${PORT} as ${issuer}`));
