/**
 * Organization slugs Sentry never hands out (its RESERVED_ORGANIZATION_SLUGS, late-2024 list):
 * top-level URL paths and region names that an organization slug would shadow.
 */
export const RESERVED_ORGANIZATION_SLUGS: ReadonlySet<string> = new Set([
  "404", "500", "_admin", "_experiment", "_static", "about", "accept", "access", "account",
  "accountspayable", "acl", "admin", "answers", "ap", "api", "app", "at", "au1", "auth",
  "authentication", "avatar", "billing", "blog", "branding", "careers", "client", "clients",
  "community", "contact", "corp", "customers", "de", "debug", "devinfra", "docs", "enterprise", "eu",
  "events", "expenses", "ext", "extension", "extensions", "features", "finance", "for", "from",
  "get-cli", "github-deployment-gate", "guide", "help", "ingest", "ingest-beta",
  "integration-platform", "integrations", "invoice", "invoices", "ja", "jobs", "legal", "login",
  "logout", "lp", "mail", "manage", "my", "onboarding", "organization-avatar", "organizations", "out",
  "payment", "payments", "platforms", "plugins", "policy", "pricing", "privacy", "project-avatar",
  "projects", "receipt", "receipts", "referrals", "register", "remote", "resources", "sa1", "sales",
  "security", "sentry-apps", "settings", "signup", "sponsorship", "ssh", "sso", "staff", "subscribe",
  "support", "syntax", "syntaxfm", "team-avatar", "teams", "terms", "thanks", "themonitor", "trust",
  "us", "vs", "welcome",
]);
