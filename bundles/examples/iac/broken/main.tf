# The payments identity with the mistakes users report:
# - workload identity without the OIDC issuer (WI035);
# - the issuer copied from `az aks show` into a credential of a cluster
#   defined right here (WI034);
# - two credentials that do not wait for each other (WI033);
# - no credential at all for payments/worker (WI030, with ../k8s).
resource "azurerm_kubernetes_cluster" "aks" {
  name                      = "aks-payments"
  location                  = "westeurope"
  resource_group_name       = "rg-payments"
  dns_prefix                = "payments"
  workload_identity_enabled = true

  default_node_pool {
    name       = "system"
    node_count = 2
    vm_size    = "Standard_D4s_v5"
  }

  identity {
    type = "SystemAssigned"
  }
}

resource "azurerm_user_assigned_identity" "payments" {
  name                = "id-payments"
  resource_group_name = "rg-payments"
  location            = "westeurope"
}

resource "azurerm_federated_identity_credential" "api" {
  name                      = "payments-api"
  user_assigned_identity_id = azurerm_user_assigned_identity.payments.id
  audience                  = ["api://AzureADTokenExchange"]
  issuer                    = "https://westeurope.oic.prod-aks.azure.com/72f988bf-86f1-41af-91ab-2d7cd011db47/9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b/"
  subject                   = "system:serviceaccount:payments:api"
}

resource "azurerm_federated_identity_credential" "api_canary" {
  name                      = "payments-api-canary"
  user_assigned_identity_id = azurerm_user_assigned_identity.payments.id
  audience                  = ["api://AzureADTokenExchange"]
  issuer                    = azurerm_kubernetes_cluster.aks.oidc_issuer_url
  subject                   = "system:serviceaccount:payments:api-canary"
}
