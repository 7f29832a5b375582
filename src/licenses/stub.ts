/** The License DO for an organization (one per organization_id). */
export function licenseStub(env: Env, organizationId: string) {
  return env.LICENSES.get(env.LICENSES.idFromName(organizationId));
}
