// Swagger UI over vidplat's own document; "Authorize" takes the access_token from POST /api/v1/auth/login.
window.ui = SwaggerUIBundle({
  url: "/docs/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  tryItOutEnabled: false,
  oauth2RedirectUrl: window.location.origin + "/docs/oauth2-redirect.html",
  presets: [SwaggerUIBundle.presets.apis],
});
