// Tellgence API on Azure Functions Flex Consumption (Python 3.11, v2 programming model).
//
// Deploys into an existing resource group:
//   user-assigned managed identity (the app's only identity, used for every data-plane call)
//   storage account (host storage, deployment package container, the app's blob containers and queues)
//   Cosmos DB for NoSQL, serverless, Entra ID only (the database and every container of the registry)
//   Log Analytics + Application Insights (Entra ID ingestion)
//   Key Vault in RBAC mode (secret app settings are Key Vault references)
//   Flex Consumption plan (FC1) and the function app
//
// Storage resources are never typed here: they come from storage.json, which
// infra/sync_storage.py generates from shared/platform/store/registry.py (a unit test enforces it).
// No key or connection string reaches an app setting.

targetScope = 'resourceGroup'

// ---------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------

@description('Deployment environment; becomes APP_ENV of the app.')
@allowed([
  'dev'
  'staging'
  'prod'
])
param appEnv string

@description('Azure region. Pick one that offers Flex Consumption (az functionapp list-flexconsumption-locations).')
param location string = resourceGroup().location

@description('Short lowercase prefix for resource names (letters and digits).')
@minLength(2)
@maxLength(12)
param namePrefix string = 'tellgence'

@description('Upper bound of instances the Flex Consumption plan scales the app out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Origins of the web apps allowed by CORS (scheme://host[:port], no trailing slash); also FRONTEND_URLS.')
param frontendUrls array

@description('Public base URL of this API (API_PUBLIC_BASE_URL). Empty: https://<function app default host name>.')
param apiPublicBaseUrl string = ''

@description('Public base URL of the web app (WEB_PUBLIC_BASE_URL), used in links the API sends.')
param webPublicBaseUrl string = ''

@description('Build identifier reported by GET /api/build-info (BUILD_ID).')
param buildId string = 'unknown'

@description('Git commit of the deployed code (GIT_COMMIT).')
param gitCommit string = ''

@description('Deployment time (DEPLOYMENT_TIME); defaults to the time of this deployment.')
param deploymentTime string = utcNow()

@description('Azure OpenAI endpoint (AZURE_OPENAI_ENDPOINT); empty leaves realtime credentials "not configured".')
param azureOpenAiEndpoint string = ''

@description('Azure OpenAI realtime deployment name (AZURE_OPENAI_DEPLOYMENT_REALTIME).')
param azureOpenAiDeploymentRealtime string = 'gpt-realtime'

@description('Azure OpenAI transcription model (AZURE_OPENAI_TRANSCRIPTION_MODEL).')
param azureOpenAiTranscriptionModel string = 'gpt-4o-transcribe'

@description('Clerk JWKS URL used to verify control-plane JWTs (CLERK_JWKS_URL); or put CLERK_JWT_KEY in Key Vault.')
param clerkJwksUrl string = ''

@description('Expected issuer of Clerk JWTs (CLERK_ISSUER).')
param clerkIssuer string = ''

@description('''Secret app settings whose secret already exists in the Key Vault, e.g. ["AZURE_OPENAI_API_KEY"].
Each must be one of secretSettingNames below; its secret is named after the setting in lowercase kebab case
(AZURE_OPENAI_API_KEY -> azure-openai-api-key). Settings not listed here are left unset (the app reports them
as not configured) rather than pointing at a missing secret.''')
param keyVaultSecretSettings array = []

@description('Extra non-secret app settings (name -> string value). Names that look secret (containing SECRET or _KEY) are dropped: secrets go through keyVaultSecretSettings.')
param additionalAppSettings object = {}

@description('Optional object id of a user, group or CI principal that may write Key Vault secrets (Key Vault Secrets Officer).')
param secretsOfficerPrincipalId string = ''

@description('Storage account redundancy.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_RAGRS'
])
param storageSku string = 'Standard_LRS'

@description('Log Analytics retention in days.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

@description('Tags applied to every resource.')
param tags object = {}

// ---------------------------------------------------------------------------------------------
// Storage declarations (generated from shared/platform/store/registry.py by infra/sync_storage.py)
// ---------------------------------------------------------------------------------------------

var storage = loadJsonContent('storage.json')
var cosmosDatabaseName = storage.database
var cosmosContainers = array(storage.containers)
var blobContainerNames = array(storage.blobContainers)
var registryQueueNames = array(storage.queues)
// Every queue gets its <name>-poison queue, where the host moves messages past maxDequeueCount.
var queueNames = union(registryQueueNames, map(filter(registryQueueNames, queue => !endsWith(queue, '-poison')), queue => '${queue}-poison'))

// ---------------------------------------------------------------------------------------------
// Names and constants
// ---------------------------------------------------------------------------------------------

var prefix = toLower(replace(namePrefix, '-', ''))
var resourceToken = uniqueString(subscription().id, resourceGroup().id, appEnv)
var allTags = union(tags, {
  application: 'tellgence-api'
  environment: appEnv
})

var identityName = 'id-${prefix}-${appEnv}-${resourceToken}'
var storageAccountName = 'st${take(prefix, 9)}${resourceToken}'
var cosmosAccountName = 'cosmos-${prefix}-${appEnv}-${resourceToken}'
var keyVaultName = 'kv${take(prefix, 9)}${resourceToken}'
var logAnalyticsName = 'log-${prefix}-${appEnv}-${resourceToken}'
var appInsightsName = 'appi-${prefix}-${appEnv}-${resourceToken}'
var planName = 'plan-${prefix}-${appEnv}-${resourceToken}'
var functionAppName = 'func-${prefix}-${appEnv}-${resourceToken}'
// The blob container Flex Consumption deploys the app package to (infra-only, not an app container).
var deploymentContainerName = 'app-package-${resourceToken}'
var keyVaultUri = 'https://${keyVaultName}${environment().suffixes.keyvaultDns}/'

// Built-in role definition ids (Azure RBAC).
var roleIds = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}
// Cosmos DB Built-in Data Contributor (Cosmos DB data-plane RBAC, not Azure RBAC).
var cosmosDataContributorRoleId = '00000000-0000-0000-0000-000000000002'

// The host's storage needs blobs (leases, keys, deployment package) and queues (triggers); the
// table role serves the host's diagnostic events. Storage Account Contributor is not needed.
var storageRoleIds = [
  roleIds.storageBlobDataOwner
  roleIds.storageQueueDataContributor
  roleIds.storageTableDataContributor
]

// Settings the app reads as secrets (the repr=False fields of shared.settings.Settings), offered as
// Key Vault references. COSMOS_KEY is deliberately absent: Cosmos DB is reached with the managed
// identity. A test checks this list against Settings.
// CLERK_JWT_KEY and EVIDENCE_RETIRED_PUBLIC_KEYS are public PEM keys, but every *_KEY setting goes
// through Key Vault alike.
var secretSettingNames = [
  'ACS_EMAIL_CONNECTION_STRING'
  'API_KEY_FOR_REALTIME'
  'ATTESTATION_SIGNING_KEY'
  'ATTESTATION_SIGNING_KEY_PREVIOUS'
  'AZURE_OPENAI_API_KEY'
  'CLERK_JWT_KEY'
  'CLERK_WEBHOOK_SIGNING_SECRET'
  'CONNECTOR_ENCRYPTION_KEYS'
  'EVIDENCE_RETIRED_PUBLIC_KEYS'
  'EVIDENCE_SIGNING_KEY'
  'INTERNAL_WORKFLOW_CALLBACK_SECRET'
  'SMTP_PASSWORD'
]
var enabledSecretSettingNames = filter(secretSettingNames, settingName => contains(keyVaultSecretSettings, settingName))
var keyVaultReferenceSettings = toObject(enabledSecretSettingNames, settingName => settingName, settingName => '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/${toLower(replace(settingName, '_', '-'))}/)')
var nonSecretAdditionalSettings = filter(items(additionalAppSettings), setting => !contains(toUpper(setting.key), 'SECRET') && !contains(toUpper(setting.key), '_KEY'))
var extraAppSettings = toObject(nonSecretAdditionalSettings, setting => setting.key, setting => string(setting.value))

// ---------------------------------------------------------------------------------------------
// Identity
// ---------------------------------------------------------------------------------------------

resource appIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: identityName
  location: location
  tags: allTags
}

// ---------------------------------------------------------------------------------------------
// Storage account: host storage, deployment package, the app's blob containers and queues
// ---------------------------------------------------------------------------------------------

resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageAccountName
  location: location
  tags: allTags
  kind: 'StorageV2'
  sku: {
    name: storageSku
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storageAccount
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource appBlobContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [for containerName in blobContainerNames: {
  parent: blobService
  name: containerName
  properties: {
    publicAccess: 'None'
  }
}]

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storageAccount
  name: 'default'
}

resource appQueues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [for queueName in queueNames: {
  parent: queueService
  name: queueName
}]

resource storageRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for roleId in storageRoleIds: {
  name: guid(storageAccount.id, appIdentity.id, roleId)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    principalId: appIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}]

// ---------------------------------------------------------------------------------------------
// Cosmos DB for NoSQL: serverless, Entra ID only
// ---------------------------------------------------------------------------------------------

resource cosmosAccount 'Microsoft.DocumentDB/databaseAccounts@2024-05-15' = {
  name: cosmosAccountName
  location: location
  tags: allTags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    capabilities: [
      {
        name: 'EnableServerless'
      }
    ]
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: 'Enabled'
  }
}

resource cosmosDatabase 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-05-15' = {
  parent: cosmosAccount
  name: cosmosDatabaseName
  properties: {
    resource: {
      id: cosmosDatabaseName
    }
  }
}

resource cosmosContainerResources 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-05-15' = [for container in cosmosContainers: {
  parent: cosmosDatabase
  name: container.name
  properties: {
    // defaultTtl only when the registry sets one (null: TTL off).
    resource: union({
      id: container.name
      partitionKey: {
        paths: [
          container.partitionKey
        ]
        kind: 'Hash'
        version: 2
      }
    }, container.defaultTtl == null ? {} : {
      defaultTtl: container.defaultTtl
    })
  }
}]

resource cosmosRoleAssignment 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-05-15' = {
  parent: cosmosAccount
  name: guid(cosmosAccount.id, appIdentity.id, cosmosDataContributorRoleId)
  properties: {
    roleDefinitionId: '${cosmosAccount.id}/sqlRoleDefinitions/${cosmosDataContributorRoleId}'
    principalId: appIdentity.properties.principalId
    scope: cosmosAccount.id
  }
}

// ---------------------------------------------------------------------------------------------
// Monitoring: Log Analytics + Application Insights (Entra ID ingestion only)
// ---------------------------------------------------------------------------------------------

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: allTags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: logRetentionDays
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: allTags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    IngestionMode: 'LogAnalytics'
    DisableLocalAuth: true
  }
}

resource appInsightsRoleAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, appIdentity.id, roleIds.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.monitoringMetricsPublisher)
    principalId: appIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---------------------------------------------------------------------------------------------
// Key Vault (RBAC mode): the app reads secrets through Key Vault references
// ---------------------------------------------------------------------------------------------

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: keyVaultName
  location: location
  tags: allTags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: appEnv == 'prod' ? true : null
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource keyVaultSecretsUserAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyVault.id, appIdentity.id, roleIds.keyVaultSecretsUser)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsUser)
    principalId: appIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource keyVaultSecretsOfficerAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(secretsOfficerPrincipalId)) {
  name: guid(keyVault.id, secretsOfficerPrincipalId, roleIds.keyVaultSecretsOfficer)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsOfficer)
    principalId: secretsOfficerPrincipalId
  }
}

// ---------------------------------------------------------------------------------------------
// Flex Consumption plan and function app
// ---------------------------------------------------------------------------------------------

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: allTags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: functionAppName
  location: location
  tags: allTags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${appIdentity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: appIdentity.id
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      cors: {
        allowedOrigins: frontendUrls
        supportCredentials: true
      }
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageAccount.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: appIdentity.id
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: 2048
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
  dependsOn: [
    deploymentContainer
    storageRoleAssignments
  ]
}

// App settings: identity-based connections only. Later objects in union() win, so the fixed
// settings below cannot be overridden by additionalAppSettings.
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: union(extraAppSettings, keyVaultReferenceSettings, {
    // Host storage through the user-assigned identity (identity-based AzureWebJobsStorage).
    AzureWebJobsStorage__accountName: storageAccount.name
    AzureWebJobsStorage__blobServiceUri: storageAccount.properties.primaryEndpoints.blob
    AzureWebJobsStorage__queueServiceUri: storageAccount.properties.primaryEndpoints.queue
    AzureWebJobsStorage__tableServiceUri: storageAccount.properties.primaryEndpoints.table
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: appIdentity.properties.clientId
    // The API serves GET / itself (empty route, routePrefix "" in host.json).
    AzureWebJobsDisableHomepage: 'true'
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${appIdentity.properties.clientId};Authorization=AAD'
    // DefaultAzureCredential in the app picks the user-assigned identity by this client id.
    AZURE_CLIENT_ID: appIdentity.properties.clientId
    APP_ENV: appEnv
    BUILD_ID: buildId
    DEPLOYMENT_TIME: deploymentTime
    GIT_COMMIT: gitCommit
    COSMOS_ENDPOINT: cosmosAccount.properties.documentEndpoint
    COSMOS_DATABASE: cosmosDatabaseName
    FRONTEND_URLS: join(frontendUrls, ',')
    API_PUBLIC_BASE_URL: empty(apiPublicBaseUrl) ? 'https://${functionApp.properties.defaultHostName}' : apiPublicBaseUrl
    WEB_PUBLIC_BASE_URL: webPublicBaseUrl
    AZURE_OPENAI_ENDPOINT: azureOpenAiEndpoint
    AZURE_OPENAI_DEPLOYMENT_REALTIME: azureOpenAiDeploymentRealtime
    AZURE_OPENAI_TRANSCRIPTION_MODEL: azureOpenAiTranscriptionModel
    CLERK_JWKS_URL: clerkJwksUrl
    CLERK_ISSUER: clerkIssuer
  })
  dependsOn: [
    storageRoleAssignments
    cosmosRoleAssignment
    keyVaultSecretsUserAssignment
    appInsightsRoleAssignment
    appBlobContainers
    appQueues
    cosmosContainerResources
  ]
}

// ---------------------------------------------------------------------------------------------
// Outputs
// ---------------------------------------------------------------------------------------------

output functionAppName string = functionApp.name
output functionAppUrl string = 'https://${functionApp.properties.defaultHostName}'
output managedIdentityClientId string = appIdentity.properties.clientId
output managedIdentityPrincipalId string = appIdentity.properties.principalId
output storageAccountName string = storageAccount.name
output deploymentContainerName string = deploymentContainerName
output cosmosEndpoint string = cosmosAccount.properties.documentEndpoint
output cosmosDatabaseName string = cosmosDatabaseName
output keyVaultName string = keyVault.name
output keyVaultUri string = keyVaultUri
output applicationInsightsName string = appInsights.name
