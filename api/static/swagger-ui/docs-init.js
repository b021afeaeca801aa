// Starts the bundled Swagger UI on this server's /openapi.json. A file, not an inline script, so the docs
// page's Content-Security-Policy can allow scripts from this server alone. The page names the document's URL,
// which carries the prefix a proxy serves the API under (diplo serve --root-path).
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: document.getElementById("swagger-ui").dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    // No badge fetched from validator.swagger.io: the page talks to this server only.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
});
