import { createElement } from "#jsx/jsx-runtime";
import { Layout } from "./layout";

/** The login form: the admin token, posted once; the answer sets the session cookie. */
export function LoginPage(props: { error?: string; next?: string }) {
  return (
    <Layout title="Log in">
      <form class="login" method="post" action="/admin/login">
        <h1>Operations login</h1>
        {props.error && <p class="notice error">{props.error}</p>}
        <label for="token">Admin token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required autofocus />
        {props.next && <input type="hidden" name="next" value={props.next} />}
        <button class="primary" type="submit">
          Log in
        </button>
        <p class="muted">The value of the Worker's ADMIN_TOKEN secret (locally: .dev.vars). API clients send it as a Bearer header instead.</p>
      </form>
    </Layout>
  );
}
