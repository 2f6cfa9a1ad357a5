// A real OpenID Provider for the tests (the certified `oidc-provider`
// package): one confidential client, baocao, and accounts whose login is
// their id, each with a verified address at the demo's mail domain. Its
// own development screens ask for a login and a consent, as a province's
// provider would.
import Provider from "oidc-provider";

export const CLIENT_ID = "baocao";
export const CLIENT_SECRET = "bi-mat-cua-may-khach-thu-nghiem";
export const DOMAIN = "tinh-demo.gov.vn";

/** Starts the provider on `port` for a baocao whose callback is `redirectUri`; resolves with its HTTP server. */
export function startProvider(port, redirectUri) {
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [redirectUri],
        grant_types: ["authorization_code"],
        response_types: ["code"],
      },
    ],
    claims: { email: ["email", "email_verified"], profile: ["name"] },
    pkce: { required: () => true },
    async findAccount(_ctx, id) {
      return {
        accountId: id,
        async claims() {
          return { sub: id, email: `${id}@${DOMAIN}`, email_verified: true, name: id };
        },
      };
    },
  });
  return new Promise((resolve) => {
    const server = provider.listen(port, "127.0.0.1", () => resolve(server));
  });
}
