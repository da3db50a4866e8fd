// Scalar over vidplat's own document, with nothing fetched from elsewhere: no web fonts, no request
// proxy (requests go straight to this origin), no telemetry, no hosted AI agent.
Scalar.createApiReference("#scalar", {
  url: "/docs/openapi.json",
  withDefaultFonts: false,
  proxyUrl: "",
  telemetry: false,
  agent: { disabled: true },
  persistAuth: true,
});
