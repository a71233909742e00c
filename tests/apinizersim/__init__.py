"""An Apinizer API Manager simulator for tests: the Management API's read calls the portal's
connector makes, as the vendor's published reference describes them
(github.com/apinizer/management-api-docs, 02-api-reference):

- `GET /apiops/projects/`: the projects the token's user is a member of,
  `{"status": "SUCCESS", "resultList": [{"name", "description"}], "resultCount"}`.
- `GET /apiops/projects/{projectName}/apiProxies/`: the project's API proxies ordered by name,
  `{"status": "SUCCESS", "resultList": [{"name", "description", "type", "relativePath",
  "soapToRest"}], "resultCount"}`; an unknown project is 404
  `{"error": "not_found", "error_description": "Project (X) is not found or user does not have privilege to access it!"}`.
- `GET /apiops/projects/{projectName}/apiProxies/{apiProxyName}/endpoints/`: the proxy's
  endpoints, `{"success": true, "resultList": [{"id", "endpoint", "description", "active",
  "httpMethod", "backendResourceUrl", "backendHttpMethod"}], "resultCount"}`; httpMethod may be
  `ALL`; an unknown proxy is 404 `ApiProxy (name: X) was not found!`.
- `GET /apiops/environments/{projectName}` (Get Environments by Project): the environments
  the project's proxies may be deployed to, `{"success": true, "resultList": [{"name",
  "description", "type", "status", "accessUrl", "deployed", "redeployRequired"}],
  "resultCount"}`; an unknown project is 400 `{"error": "bad_request", ...}`. The vendor's
  newer pages (docs.apinizer.com) give it as `GET /apiops/projects/{projectName}/environments/`;
  the simulator answers that with 404, as a Manager that predates it would, so the connector's
  fall-back to this path is what every test uses.
- Every call needs `Authorization: Bearer <personal API access token>`; otherwise 401
  `{"error": "unauthorized_client", "error_description": "Invalid token"}`.
"""
from .server import ApinizerSimulator, TOKEN

__all__ = ["ApinizerSimulator", "TOKEN"]
