# The payments identity, done right: the cluster runs the OIDC issuer and
# workload identity, each credential takes the issuer from the cluster, and
# the second credential waits for the first (Azure refuses concurrent
# credential writes on one identity).
variable "location" {
  type    = string
  default = "westeurope"
}

resource "azurerm_kubernetes_cluster" "aks" {
  name                      = "aks-payments"
  location                  = var.location
  resource_group_name       = "rg-payments"
  dns_prefix                = "payments"
  oidc_issuer_enabled       = true
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
  location            = var.location
}

resource "azurerm_federated_identity_credential" "api" {
  name                      = "payments-api"
  user_assigned_identity_id = azurerm_user_assigned_identity.payments.id
  audience                  = ["api://AzureADTokenExchange"]
  issuer                    = azurerm_kubernetes_cluster.aks.oidc_issuer_url
  subject                   = "system:serviceaccount:payments:api"
}

resource "azurerm_federated_identity_credential" "worker" {
  name                      = "payments-worker"
  user_assigned_identity_id = azurerm_user_assigned_identity.payments.id
  audience                  = ["api://AzureADTokenExchange"]
  issuer                    = azurerm_kubernetes_cluster.aks.oidc_issuer_url
  subject                   = "system:serviceaccount:payments:worker"
  depends_on                = [azurerm_federated_identity_credential.api]
}

resource "azurerm_role_assignment" "secrets" {
  scope                = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-payments/providers/Microsoft.KeyVault/vaults/kv-payments"
  role_definition_name = "Key Vault Secrets User"
  principal_id         = azurerm_user_assigned_identity.payments.principal_id
}
