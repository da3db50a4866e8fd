// Swagger UI opens this page as a pop-up to finish an OAuth2 sign-in; opened any other way there
// is no sign-in to finish, and Swagger's own script would throw on the missing window.opener.
if (window.opener && window.opener.swaggerUIRedirectOauth2) {
  const script = document.createElement("script");
  script.src = "/docs/assets/vendor/swagger-ui/oauth2-redirect.js";
  document.body.appendChild(script);
} else {
  document.getElementById("note").hidden = false;
}
